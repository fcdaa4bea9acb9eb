; expected: unsat
; A `*` followed by more text of the same segment matches no colon:
; `arn:aws:iam::111122223333:role/a*b` does not match `arn:aws:iam::111122223333:role/a:b`.
(set-logic ALL)
(declare-fun resource () String)
(assert (= resource "arn:aws:iam::111122223333:role/a:b"))
(assert
 (str.in_re resource
  (re.++ (str.to_re "arn:aws:iam::111122223333:role/a")
         (re.* (re.inter re.allchar (re.comp (str.to_re ":"))))
         (str.to_re "b"))))
(check-sat)
