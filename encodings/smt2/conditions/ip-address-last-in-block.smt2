; expected: sat
; The last address of a CIDR block is inside it:
; `{"IpAddress": {"aws:SourceIp": "10.0.0.0/24"}}` holds for 10.0.0.255 (167772415).
; An IPv4 address is a 128-bit vector below 2^32 with the `v6` flag false;
; the block test is (address AND mask) = network address.
(set-logic ALL)
(declare-fun |key!aws:sourceip!present| () Bool)
(declare-fun |key!aws:sourceip!0| () (_ BitVec 128))
(declare-fun |key!aws:sourceip!0!v6| () Bool)
(define-fun condition () Bool
 (ite |key!aws:sourceip!present|
      (and (not |key!aws:sourceip!0!v6|)
           (= (bvand |key!aws:sourceip!0| (_ bv4294967040 128)) (_ bv167772160 128)))
      false))
(assert (or |key!aws:sourceip!0!v6| (bvult |key!aws:sourceip!0| (_ bv4294967296 128))))
(assert |key!aws:sourceip!present|)
(assert (not |key!aws:sourceip!0!v6|))
(assert (= |key!aws:sourceip!0| (_ bv167772415 128)))
(assert condition)
(check-sat)
