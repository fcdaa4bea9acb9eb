; expected: unsat
; ForAllValues on an absent key is true:
; `{"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}` cannot be false without `aws:TagKeys`.
; The key has one set element: the bound for one set-qualified condition and no unqualified one.
(set-logic ALL)
(declare-fun |key!aws:tagkeys!present| () Bool)
(declare-fun |key!aws:tagkeys!count| () Int)
(declare-fun |key!aws:tagkeys!0| () String)
(define-fun condition () Bool
 (ite |key!aws:tagkeys!present|
      (=> (> |key!aws:tagkeys!count| 0) (= |key!aws:tagkeys!0| "a"))
      true))
(assert (>= |key!aws:tagkeys!count| 1))
(assert (<= |key!aws:tagkeys!count| 1))
(assert (not |key!aws:tagkeys!present|))
(assert (not condition))
(check-sat)
