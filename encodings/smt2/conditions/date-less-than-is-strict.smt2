; expected: unsat
; DateLessThan is strict: `{"DateLessThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}`
; is false at exactly 2024-01-01T00:00:00Z, which is 1704067200 seconds after the Unix epoch.
; Dates are reals in seconds; `aws:CurrentTime` is a documented Date key, so its value always parses.
(set-logic ALL)
(declare-fun |key!aws:currenttime!present| () Bool)
(declare-fun |key!aws:currenttime!0| () Real)
(define-fun condition () Bool
 (ite |key!aws:currenttime!present|
      (< |key!aws:currenttime!0| 1704067200.0)
      false))
(assert |key!aws:currenttime!present|)
(assert (= |key!aws:currenttime!0| 1704067200.0))
(assert condition)
(check-sat)
