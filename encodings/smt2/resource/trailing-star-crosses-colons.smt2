; expected: sat
; A `*` that ends the pattern matches any characters, colons included:
; `arn:aws:sns:us-east-1:111122223333:*` matches a resource whose last part contains a colon.
(set-logic ALL)
(declare-fun resource () String)
(declare-fun tail () String)
(assert (str.in_re resource (re.++ (str.to_re "arn:aws:sns:us-east-1:111122223333:") (re.* re.allchar))))
(assert (= resource (str.++ "arn:aws:sns:us-east-1:111122223333:" tail)))
(assert (str.contains tail ":"))
(check-sat)
