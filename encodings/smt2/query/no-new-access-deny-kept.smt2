; expected: unsat
; A tiny policy pair with no new access: the query that verifier/check.py sends to the solver is unsatisfiable.
;
; old: Allow s3:Get* on arn:aws:s3:::b/*;  Deny s3:* on arn:aws:s3:::b/secret/*
; new: Allow s3:GetObject on arn:aws:s3:::b/*;  Deny s3:GetObject on arn:aws:s3:::b/secret/*
;
; One slice, the action `s3:getobject`. Assertions, in order: the action is in the slice;
; the new Allow matches; the new Deny does not; the old Allow does not match or the old
; Deny does. The old Deny differs from the new one, so the syntactic cover test does not
; apply and the solver decides. Text printed by verifier.solver.to_smtlib (z3 5.4.1) for
; the assertions that verifier/check.py built at commit c9f67a6; only the header,
; set-logic and check-sat lines were added.
; Each bare `true` is a part decided without the solver: the action test of a concrete slice,
; and the Principal and Condition elements, which these statements do not have.
(set-logic ALL)
(declare-fun action () String)
(declare-fun resource () String)
(assert
 (= action "s3:getobject"))
(assert
 (let (($x20 (and (str.in_re resource (re.++ (str.to_re "arn:aws:s3:::b/") (re.* re.allchar))) true true)))
 (and true $x20)))
(assert
 (let (($x25 (and (str.in_re resource (re.++ (str.to_re "arn:aws:s3:::b/secret/") (re.* re.allchar))) true true)))
 (let (($x5 (and true $x25)))
 (not $x5))))
(assert
 (let (($x25 (and (str.in_re resource (re.++ (str.to_re "arn:aws:s3:::b/secret/") (re.* re.allchar))) true true)))
(let (($x5 (and true $x25)))
(let (($x20 (and (str.in_re resource (re.++ (str.to_re "arn:aws:s3:::b/") (re.* re.allchar))) true true)))
(let (($x21 (and true $x20)))
(or (not $x21) $x5))))))
(check-sat)
