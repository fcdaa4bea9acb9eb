; expected: unsat
; A negated operator is true when its key is absent:
; `{"StringNotLike": {"aws:username": "a*"}}` cannot be false without `aws:username`.
(set-logic ALL)
(declare-fun |key!aws:username!present| () Bool)
(declare-fun |key!aws:username!0| () String)
(define-fun condition () Bool
 (ite |key!aws:username!present|
      (not (str.in_re |key!aws:username!0| (re.++ (str.to_re "a") (re.* re.allchar))))
      true))
(assert (not |key!aws:username!present|))
(assert (not condition))
(check-sat)
