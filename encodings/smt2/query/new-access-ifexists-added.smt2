; expected: sat
; A tiny policy pair with new access: the query is satisfiable by a request without `aws:SecureTransport`.
;
; old: Allow s3:GetObject on arn:aws:s3:::b/* with {"Bool": {"aws:SecureTransport": "true"}}
; new: Allow s3:GetObject on arn:aws:s3:::b/* with {"BoolIfExists": {"aws:SecureTransport": "true"}}
;
; One slice, the action `s3:getobject`. Assertions, in order: the action is in the slice;
; the new Allow matches; the old Allow does not. Text printed by
; verifier.solver.to_smtlib (z3 5.4.1) for the assertions that verifier/check.py built at
; commit c9f67a6; only the header, set-logic and check-sat lines were added.
; Each bare `true` is a part decided without the solver: the action test of a concrete slice,
; the Principal element, which these statements do not have, and the `parses` flag, which is
; the constant true because `aws:SecureTransport` is a documented Bool key.
(set-logic ALL)
(declare-fun action () String)
(declare-fun |key!aws:securetransport!0| () Bool)
(declare-fun |key!aws:securetransport!present| () Bool)
(declare-fun resource () String)
(assert
 (= action "s3:getobject"))
(assert
 (let (($x94 (and true (and true (= |key!aws:securetransport!0| true)))))
 (let ((?x12 (re.* re.allchar)))
 (let ((?x13 (re.++ (str.to_re "arn:aws:s3:::b/") ?x12)))
 (let (($x24 (str.in_re resource ?x13)))
 (let (($x52 (and $x24 true (ite |key!aws:securetransport!present| $x94 true))))
 (and true $x52)))))))
(assert
 (let (($x94 (and true (and true (= |key!aws:securetransport!0| true)))))
(let ((?x12 (re.* re.allchar)))
(let ((?x13 (re.++ (str.to_re "arn:aws:s3:::b/") ?x12)))
(let (($x24 (str.in_re resource ?x13)))
(let (($x83 (and $x24 true (ite |key!aws:securetransport!present| $x94 false))))
(not (and true $x83))))))))
(check-sat)
