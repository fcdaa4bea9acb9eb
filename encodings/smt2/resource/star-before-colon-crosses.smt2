; expected: sat
; A `*` directly followed by `:` ends its segment, so it may match colons too:
; `arn:aws:iam::*:role/x` matches `arn:aws:iam::1:2:role/x`.
(set-logic ALL)
(declare-fun resource () String)
(assert (= resource "arn:aws:iam::1:2:role/x"))
(assert
 (str.in_re resource
  (re.++ (str.to_re "arn:aws:iam::") (re.* re.allchar) (str.to_re ":role/x"))))
(check-sat)
