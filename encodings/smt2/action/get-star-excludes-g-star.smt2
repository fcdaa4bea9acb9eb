; expected: sat
; `s3:Get*` does not include `s3:G*`: some action matches `s3:G*` and not `s3:Get*` (for example `s3:gx`).
; Action patterns and the `action` constant are held in ASCII lowercase.
(set-logic ALL)
(declare-fun action () String)
(assert (str.in_re action (re.++ (str.to_re "s3:g") (re.* re.allchar))))
(assert (not (str.in_re action (re.++ (str.to_re "s3:get") (re.* re.allchar)))))
(check-sat)
