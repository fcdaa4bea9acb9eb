; expected: unsat
; A bucket policy grants to everyone in one organization, and the zone trusts it.
;
; policy: Allow s3:GetObject on arn:aws:s3:::b/* to "*" if StringEquals aws:PrincipalOrgID o-a1b2c3d4e5
; zone:   --trusted-org o-a1b2c3d4e5
;
; The query of `iamverify prove no-external-access` for callers of the form "role session"
; (principal!kind = 2). aws:PrincipalOrgID is present exactly when principal!in_org holds
; and then equals principal!org, so the condition needs the trusted organization, and an
; outside caller cannot have it. Text printed by verifier.solver.to_smtlib (z3 5.4.1) for
; the assertions that verifier/prove.py built; only the header, set-logic and check-sat
; lines were added.
(set-logic ALL)
(declare-fun |key!aws:principalorgid!0| () String)
(declare-fun |key!aws:principalorgid!present| () Bool)
(declare-fun resource () String)
(declare-fun action () String)
(declare-fun principal!org () String)
(declare-fun principal!in_org () Bool)
(declare-fun |key!aws:principalorgpaths!count| () Int)
(declare-fun principal!kind () Int)
(declare-fun principal!partition () String)
(declare-fun principal!account () String)
(declare-fun principal!role () String)
(declare-fun principal!session () String)
(declare-fun principal!role_path () String)
(declare-fun principal!org_path () String)
(declare-fun |key!aws:principalaccount!0| () String)
(declare-fun |key!aws:principalaccount!present| () Bool)
(declare-fun |key!aws:principalorgpaths!present| () Bool)
(declare-fun |key!aws:principalorgpaths!0| () String)
(assert
 (let (($x210 (ite |key!aws:principalorgid!present| (and true (= |key!aws:principalorgid!0| "o-a1b2c3d4e5")) false)))
 (let (($x211 (and (str.in_re resource (re.++ (str.to_re "arn:aws:s3:::b/") (re.* re.allchar))) true $x210)))
 (and (= action "s3:getobject") $x211))))
(assert
 (not false))
(assert
 (not (and principal!in_org (= principal!org "o-a1b2c3d4e5"))))
(assert
 (>= |key!aws:principalorgpaths!count| 1))
(assert
 (<= |key!aws:principalorgpaths!count| 1))
(assert
 (= principal!kind 2))
(assert
 (let ((?x72 (re.union (re.range "\u{0}" "9") (re.range ";" "\u{2ffff}"))))
 (str.in_re principal!partition (re.+ ?x72))))
(assert
 (str.in_re principal!account ((_ re.loop 12 12) (re.range "0" "9"))))
(assert
 (let ((?x176 (re.+ (re.union (re.range "\u{0}" ".") (re.range "0" "\u{2ffff}")))))
 (str.in_re principal!role ?x176)))
(assert
 (let ((?x176 (re.+ (re.union (re.range "\u{0}" ".") (re.range "0" "\u{2ffff}")))))
 (str.in_re principal!session ?x176)))
(assert
 (or (= principal!role_path "") (str.suffixof "/" principal!role_path)))
(assert
 (let ((?x84 ((_ re.loop 10 32) (re.union (re.range "a" "z") (re.range "0" "9")))))
 (let (($x92 (and (str.in_re principal!org (re.++ (str.to_re "o-") ?x84)) (str.prefixof (str.++ principal!org "/r-") principal!org_path) (str.suffixof "/" principal!org_path))))
 (=> principal!in_org $x92))))
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
