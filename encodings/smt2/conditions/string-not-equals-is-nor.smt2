; expected: unsat
; StringNotEquals with two values is a NOR: `{"StringNotEquals": {"aws:username": ["a", "b"]}}`
; is false whenever the value equals either of them.
(set-logic ALL)
(declare-fun |key!aws:username!present| () Bool)
(declare-fun |key!aws:username!0| () String)
(define-fun condition () Bool
 (ite |key!aws:username!present|
      (not (or (= |key!aws:username!0| "a") (= |key!aws:username!0| "b")))
      true))
(assert condition)
(assert |key!aws:username!present|)
(assert (or (= |key!aws:username!0| "a") (= |key!aws:username!0| "b")))
(check-sat)
