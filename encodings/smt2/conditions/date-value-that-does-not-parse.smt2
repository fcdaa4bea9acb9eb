; expected: sat
; A value that does not parse as a date fails every date comparison, so it satisfies a negated one:
; `{"DateNotEquals": {"test:expiry": "2024-01-01T00:00:00Z"}}` holds while
; `{"DateGreaterThanEquals": {"test:expiry": "2000-01-01T00:00:00Z"}}` fails.
; `test:expiry` is not a documented Date key, so each element has a free `parses` flag.
(set-logic ALL)
(declare-fun |key!test:expiry!present| () Bool)
(declare-fun |key!test:expiry!0| () Real)
(declare-fun |key!test:expiry!0!parses| () Bool)
(define-fun not-equals () Bool
 (ite |key!test:expiry!present|
      (not (and |key!test:expiry!0!parses| (= |key!test:expiry!0| 1704067200.0)))
      true))
(define-fun at-least () Bool
 (ite |key!test:expiry!present|
      (and |key!test:expiry!0!parses| (>= |key!test:expiry!0| 946684800.0))
      false))
(assert |key!test:expiry!present|)
(assert not-equals)
(assert (not at-least))
(assert (= |key!test:expiry!0| 1704067200.0))
(check-sat)
