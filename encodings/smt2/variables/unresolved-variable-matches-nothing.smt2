; expected: unsat
; A variable without a default and without a value makes its pattern match nothing:
; without `aws:username`, `arn:aws:s3:::b/${aws:username}/*` matches no resource.
; The unresolved option has no default, so only the resolved option remains; with a
; wildcard in the pattern the variable's value enters a regular expression through `str.to_re`.
(set-logic ALL)
(declare-fun resource () String)
(declare-fun |key!aws:username!present| () Bool)
(declare-fun |key!aws:username!0| () String)
(define-fun resource-matches () Bool
 (and |key!aws:username!present|
      (str.in_re resource
       (re.++ (str.to_re "arn:aws:s3:::b/") (str.to_re |key!aws:username!0|)
              (str.to_re "/") (re.* re.allchar)))))
(assert (not |key!aws:username!present|))
(assert resource-matches)
(check-sat)
