; expected: unsat
; ForAnyValue on an absent key is false, even with a negated operator:
; `{"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a"]}}` cannot be true without `aws:TagKeys`.
(set-logic ALL)
(declare-fun |key!aws:tagkeys!present| () Bool)
(declare-fun |key!aws:tagkeys!count| () Int)
(declare-fun |key!aws:tagkeys!0| () String)
(define-fun condition () Bool
 (ite |key!aws:tagkeys!present|
      (and (> |key!aws:tagkeys!count| 0) (not (= |key!aws:tagkeys!0| "a")))
      false))
(assert (>= |key!aws:tagkeys!count| 1))
(assert (<= |key!aws:tagkeys!count| 1))
(assert (not |key!aws:tagkeys!present|))
(assert condition)
(check-sat)
