; expected: sat
; A trust policy lets account 444455556666 in; the zone trusts only 111122223333.
;
; policy: Allow sts:AssumeRole to {"AWS": "arn:aws:iam::444455556666:root"}
; zone:   --trusted-account 111122223333
;
; The first query of `iamverify prove no-external-access`, for callers of the form
; "account root" (principal!kind = 0). Assertions: the policy allows the request, the
; action is one of the sts:AssumeRole family, the caller is outside the zone, and the
; caller's parts have the shape of that form. Text printed by verifier.solver.to_smtlib
; (z3 5.4.1) for the assertions that verifier/prove.py built; only the header, set-logic
; and check-sat lines were added. A model is the root of 444455556666.
(set-logic ALL)
(declare-fun principal!partition () String)
(declare-fun principal!account () String)
(declare-fun principal!kind () Int)
(declare-fun action () String)
(declare-fun |key!aws:principalorgpaths!count| () Int)
(declare-fun principal!org_path () String)
(declare-fun principal!org () String)
(declare-fun principal!in_org () Bool)
(declare-fun |key!aws:principalaccount!0| () String)
(declare-fun |key!aws:principalaccount!present| () Bool)
(declare-fun |key!aws:principalorgid!present| () Bool)
(declare-fun |key!aws:principalorgid!0| () String)
(declare-fun |key!aws:principalorgpaths!present| () Bool)
(declare-fun |key!aws:principalorgpaths!0| () String)
(assert
 (let (($x41 (= principal!partition "aws")))
 (let (($x31 (= principal!kind 0)))
 (let (($x37 (or $x31 (= principal!kind 1) (= principal!kind 2) (= principal!kind 3))))
 (let (($x29 (= action "sts:assumerole")))
 (and $x29 (and true (and $x37 (= principal!account "444455556666") $x41) true)))))))
(assert
 (not false))
(assert
 (let (($x29 (= action "sts:assumerole")))
 (or $x29 (= action "sts:assumerolewithsaml") (= action "sts:assumerolewithwebidentity") (= action "sts:tagsession") (= action "sts:setsourceidentity") (= action "sts:setcontext"))))
(assert
 (not (= principal!account "111122223333")))
(assert
 (>= |key!aws:principalorgpaths!count| 1))
(assert
 (<= |key!aws:principalorgpaths!count| 1))
(assert
 (= principal!kind 0))
(assert
 (let ((?x72 (re.union (re.range "\u{0}" "9") (re.range ";" "\u{2ffff}"))))
 (str.in_re principal!partition (re.+ ?x72))))
(assert
 (str.in_re principal!account ((_ re.loop 12 12) (re.range "0" "9"))))
(assert
 (let ((?x75 (re.range "0" "9")))
 (let ((?x82 (re.range "a" "z")))
 (let ((?x83 (re.union ?x82 ?x75)))
 (let (($x92 (and (str.in_re principal!org (re.++ (str.to_re "o-") ((_ re.loop 10 32) ?x83))) (str.prefixof (str.++ principal!org "/r-") principal!org_path) (str.suffixof "/" principal!org_path))))
 (=> principal!in_org $x92))))))
(assert
 (let (($x61 (= |key!aws:principalaccount!0| principal!account)))
 (and |key!aws:principalaccount!present| true $x61)))
(assert
 (= |key!aws:principalorgid!present| principal!in_org))
(assert
 (=> principal!in_org (and true (= |key!aws:principalorgid!0| principal!org))))
(assert
 (= |key!aws:principalorgpaths!present| principal!in_org))
(assert
 (let (($x97 (and (= |key!aws:principalorgpaths!count| 1) (= |key!aws:principalorgpaths!0| principal!org_path))))
(=> principal!in_org $x97)))
(check-sat)
