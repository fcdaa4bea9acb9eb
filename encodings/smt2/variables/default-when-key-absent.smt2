; expected: unsat
; A variable takes its default when its key is absent: without `aws:username`,
; `arn:aws:s3:::b/${aws:username, 'none'}` matches only `arn:aws:s3:::b/none`.
; The formula has one option per resolution of the variable: resolved (key present
; with one value) or unresolved (the default).
(set-logic ALL)
(declare-fun resource () String)
(declare-fun |key!aws:username!present| () Bool)
(declare-fun |key!aws:username!0| () String)
(define-fun resource-matches () Bool
 (or (and |key!aws:username!present|
          (= resource (str.++ "arn:aws:s3:::b/" |key!aws:username!0|)))
     (and (not |key!aws:username!present|)
          (= resource "arn:aws:s3:::b/none"))))
(assert (not |key!aws:username!present|))
(assert resource-matches)
(assert (not (= resource "arn:aws:s3:::b/none")))
(check-sat)
