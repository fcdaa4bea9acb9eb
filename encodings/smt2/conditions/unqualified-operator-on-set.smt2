; expected: unsat
; An operator without ForAllValues or ForAnyValue needs exactly one value:
; `{"StringLike": {"aws:TagKeys": "*"}}` is false for a set of two tag keys.
; The bound is 2: max(1, 0 set-qualified conditions) + 1 for the unqualified one.
(set-logic ALL)
(declare-fun |key!aws:tagkeys!present| () Bool)
(declare-fun |key!aws:tagkeys!count| () Int)
(declare-fun |key!aws:tagkeys!0| () String)
(declare-fun |key!aws:tagkeys!1| () String)
(define-fun condition () Bool
 (ite |key!aws:tagkeys!present|
      (and (= |key!aws:tagkeys!count| 1) (str.in_re |key!aws:tagkeys!0| (re.* re.allchar)))
      false))
(assert (>= |key!aws:tagkeys!count| 1))
(assert (<= |key!aws:tagkeys!count| 2))
(assert |key!aws:tagkeys!present|)
(assert (= |key!aws:tagkeys!count| 2))
(assert condition)
(check-sat)
