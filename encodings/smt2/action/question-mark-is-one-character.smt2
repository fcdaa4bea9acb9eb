; expected: unsat
; `?` in an action pattern matches exactly one character: `s3:Get?bject` does not match `s3:getbject`.
(set-logic ALL)
(declare-fun action () String)
(assert (= action "s3:getbject"))
(assert (str.in_re action (re.++ (str.to_re "s3:get") re.allchar (str.to_re "bject"))))
(check-sat)
