;; The continuous part of a Parzen estimator's log density, over its kernels two at a time
;; (f64x2). Assembled by scripts/build-parzen-wasm.mjs into parzen-kernel.generated.ts; see
;; parzen-kernel.ts for how it is used and why the result is the JS loop's to the bit.
;;
;; Layout (byte addresses, doubles): inv and mu dimension-major (kernel j of dimension c at
;; c*m + j), base per kernel, rows row-major (nrows x nc), out per row, q scratch of m.
;; Every operation is the JS loop's, in its order: z = x*inv - mu; q = 0 + z0^2 + z1^2 + ...;
;; v = base - 0.5*q; then logSumExp: the first maximum, and exp(v - max) summed in kernel order
;; over the terms above -40, with the host's own Math.exp and Math.log.
(module
  (import "m" "exp" (func $exp (param f64) (result f64)))
  (import "m" "log" (func $log (param f64) (result f64)))
  (memory (export "memory") 1)

  ;; q[j] = base[j] - 0.5 * sum over c of (x[c] * inv[c][j] - mu[c][j])^2, for j < m
  (func $values (export "values")
    (param $m i32) (param $nc i32) (param $inv i32) (param $mu i32) (param $base i32) (param $x i32) (param $q i32)
    (local $c i32) (local $j i32) (local $a i32) (local $pairs i32) (local $off i32)
    (local $xs f64) (local $zs f64) (local $xv v128) (local $z v128)
    (local.set $pairs (i32.and (local.get $m) (i32.const -2)))
    (memory.fill (local.get $q) (i32.const 0) (i32.shl (local.get $m) (i32.const 3)))
    (block $cdone
      (loop $cloop
        (br_if $cdone (i32.ge_u (local.get $c) (local.get $nc)))
        (local.set $xs (f64.load (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 3)))))
        (local.set $xv (f64x2.splat (local.get $xs)))
        (local.set $off (i32.shl (i32.mul (local.get $c) (local.get $m)) (i32.const 3)))
        (local.set $j (i32.const 0))
        (block $jdone
          (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $pairs)))
            (local.set $a (i32.shl (local.get $j) (i32.const 3)))
            (local.set $z
              (f64x2.sub
                (f64x2.mul (local.get $xv) (v128.load (i32.add (local.get $inv) (i32.add (local.get $off) (local.get $a)))))
                (v128.load (i32.add (local.get $mu) (i32.add (local.get $off) (local.get $a))))))
            (v128.store (i32.add (local.get $q) (local.get $a))
              (f64x2.add (v128.load (i32.add (local.get $q) (local.get $a))) (f64x2.mul (local.get $z) (local.get $z))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $jloop)))
        ;; an odd number of kernels: the last one alone
        (if (i32.lt_u (local.get $pairs) (local.get $m))
          (then
            (local.set $a (i32.shl (local.get $pairs) (i32.const 3)))
            (local.set $zs
              (f64.sub
                (f64.mul (local.get $xs) (f64.load (i32.add (local.get $inv) (i32.add (local.get $off) (local.get $a)))))
                (f64.load (i32.add (local.get $mu) (i32.add (local.get $off) (local.get $a))))))
            (f64.store (i32.add (local.get $q) (local.get $a))
              (f64.add (f64.load (i32.add (local.get $q) (local.get $a))) (f64.mul (local.get $zs) (local.get $zs))))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cloop)))
    ;; v = base - 0.5 * q
    (local.set $j (i32.const 0))
    (block $vdone
      (loop $vloop
        (br_if $vdone (i32.ge_u (local.get $j) (local.get $pairs)))
        (local.set $a (i32.shl (local.get $j) (i32.const 3)))
        (v128.store (i32.add (local.get $q) (local.get $a))
          (f64x2.sub
            (v128.load (i32.add (local.get $base) (local.get $a)))
            (f64x2.mul (f64x2.splat (f64.const 0.5)) (v128.load (i32.add (local.get $q) (local.get $a))))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $vloop)))
    (if (i32.lt_u (local.get $pairs) (local.get $m))
      (then
        (local.set $a (i32.shl (local.get $pairs) (i32.const 3)))
        (f64.store (i32.add (local.get $q) (local.get $a))
          (f64.sub
            (f64.load (i32.add (local.get $base) (local.get $a)))
            (f64.mul (f64.const 0.5) (f64.load (i32.add (local.get $q) (local.get $a)))))))))

  ;; out[r] = logSumExp over kernels of the values of row r, for r < nrows. One pass per row
  ;; computes each pair of kernels' value with its squared distance held in a register over the
  ;; dimensions (the same additions in the same order as $values, which keeps q in memory across
  ;; a pass per dimension), and the running maximum beside it; then the sum over q.
  (func (export "logpdf")
    (param $m i32) (param $nc i32) (param $nrows i32) (param $inv i32) (param $mu i32) (param $base i32)
    (param $rows i32) (param $out i32) (param $q i32)
    (local $r i32) (local $j i32) (local $a i32) (local $end i32) (local $c i32) (local $pairs i32)
    (local $stride i32) (local $pi i32) (local $pm i32) (local $x i32)
    (local $v f64) (local $max f64) (local $s f64) (local $d f64) (local $zs f64) (local $qs f64)
    (local $acc v128) (local $z v128) (local $vv v128) (local $maxv v128)
    (local $acc2 v128) (local $z2 v128) (local $xv v128) (local $quads i32)
    (local.set $quads (i32.and (local.get $m) (i32.const -4)))
    (local.set $stride (i32.shl (local.get $m) (i32.const 3)))
    (local.set $pairs (i32.and (local.get $m) (i32.const -2)))
    (local.set $end (i32.add (local.get $q) (local.get $stride)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $nrows)))
        (local.set $x (i32.add (local.get $rows) (i32.shl (i32.mul (local.get $r) (local.get $nc)) (i32.const 3))))
        (local.set $maxv (f64x2.splat (f64.const -inf)))
        (local.set $j (i32.const 0))
        ;; four kernels at a time (two pairs sharing each coordinate), then a last pair below
        (block $qdone
          (loop $qloop
            (br_if $qdone (i32.ge_u (local.get $j) (local.get $quads)))
            (local.set $a (i32.shl (local.get $j) (i32.const 3)))
            (local.set $acc (f64x2.splat (f64.const 0)))
            (local.set $acc2 (f64x2.splat (f64.const 0)))
            (local.set $pi (i32.add (local.get $inv) (local.get $a)))
            (local.set $pm (i32.add (local.get $mu) (local.get $a)))
            (local.set $c (i32.const 0))
            (block $c4done
              (loop $c4loop
                (br_if $c4done (i32.ge_u (local.get $c) (local.get $nc)))
                (local.set $xv (f64x2.splat (f64.load (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 3))))))
                (local.set $z (f64x2.sub (f64x2.mul (local.get $xv) (v128.load (local.get $pi))) (v128.load (local.get $pm))))
                (local.set $z2 (f64x2.sub (f64x2.mul (local.get $xv) (v128.load offset=16 (local.get $pi))) (v128.load offset=16 (local.get $pm))))
                (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $z) (local.get $z))))
                (local.set $acc2 (f64x2.add (local.get $acc2) (f64x2.mul (local.get $z2) (local.get $z2))))
                (local.set $pi (i32.add (local.get $pi) (local.get $stride)))
                (local.set $pm (i32.add (local.get $pm) (local.get $stride)))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $c4loop)))
            (local.set $vv
              (f64x2.sub
                (v128.load (i32.add (local.get $base) (local.get $a)))
                (f64x2.mul (f64x2.splat (f64.const 0.5)) (local.get $acc))))
            (v128.store (i32.add (local.get $q) (local.get $a)) (local.get $vv))
            (local.set $maxv (f64x2.pmax (local.get $maxv) (local.get $vv)))
            (local.set $vv
              (f64x2.sub
                (v128.load offset=16 (i32.add (local.get $base) (local.get $a)))
                (f64x2.mul (f64x2.splat (f64.const 0.5)) (local.get $acc2))))
            (v128.store offset=16 (i32.add (local.get $q) (local.get $a)) (local.get $vv))
            (local.set $maxv (f64x2.pmax (local.get $maxv) (local.get $vv)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $qloop)))
        (block $jdone
          (loop $jloop
            (br_if $jdone (i32.ge_u (local.get $j) (local.get $pairs)))
            (local.set $a (i32.shl (local.get $j) (i32.const 3)))
            (local.set $acc (f64x2.splat (f64.const 0)))
            (local.set $pi (i32.add (local.get $inv) (local.get $a)))
            (local.set $pm (i32.add (local.get $mu) (local.get $a)))
            (local.set $c (i32.const 0))
            (block $cdone
              (loop $cloop
                (br_if $cdone (i32.ge_u (local.get $c) (local.get $nc)))
                (local.set $z
                  (f64x2.sub
                    (f64x2.mul
                      (f64x2.splat (f64.load (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 3)))))
                      (v128.load (local.get $pi)))
                    (v128.load (local.get $pm))))
                (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $z) (local.get $z))))
                (local.set $pi (i32.add (local.get $pi) (local.get $stride)))
                (local.set $pm (i32.add (local.get $pm) (local.get $stride)))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $cloop)))
            (local.set $vv
              (f64x2.sub
                (v128.load (i32.add (local.get $base) (local.get $a)))
                (f64x2.mul (f64x2.splat (f64.const 0.5)) (local.get $acc))))
            (v128.store (i32.add (local.get $q) (local.get $a)) (local.get $vv))
            ;; pmax keeps the first lane value unless the new one is larger: `if (x > max) max = x`
            (local.set $maxv (f64x2.pmax (local.get $maxv) (local.get $vv)))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $jloop)))
        ;; the even and odd kernels' maxima, then an odd number of kernels' last one alone
        (local.set $max (f64x2.extract_lane 0 (local.get $maxv)))
        (local.set $v (f64x2.extract_lane 1 (local.get $maxv)))
        (if (f64.gt (local.get $v) (local.get $max)) (then (local.set $max (local.get $v))))
        (if (i32.lt_u (local.get $pairs) (local.get $m))
          (then
            (local.set $a (i32.shl (local.get $pairs) (i32.const 3)))
            (local.set $qs (f64.const 0))
            (local.set $pi (i32.add (local.get $inv) (local.get $a)))
            (local.set $pm (i32.add (local.get $mu) (local.get $a)))
            (local.set $c (i32.const 0))
            (block $tdone
              (loop $tloop
                (br_if $tdone (i32.ge_u (local.get $c) (local.get $nc)))
                (local.set $zs
                  (f64.sub
                    (f64.mul (f64.load (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 3)))) (f64.load (local.get $pi)))
                    (f64.load (local.get $pm))))
                (local.set $qs (f64.add (local.get $qs) (f64.mul (local.get $zs) (local.get $zs))))
                (local.set $pi (i32.add (local.get $pi) (local.get $stride)))
                (local.set $pm (i32.add (local.get $pm) (local.get $stride)))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $tloop)))
            (local.set $v (f64.sub (f64.load (i32.add (local.get $base) (local.get $a))) (f64.mul (f64.const 0.5) (local.get $qs))))
            (f64.store (i32.add (local.get $q) (local.get $a)) (local.get $v))
            (if (f64.gt (local.get $v) (local.get $max)) (then (local.set $max (local.get $v))))))
        (if (f64.eq (local.get $max) (f64.const -inf))
          (then (f64.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 3))) (f64.const -inf)))
          (else
            (local.set $s (f64.const 0))
            (local.set $a (local.get $q))
            (block $sdone
              (loop $sloop
                (br_if $sdone (i32.ge_u (local.get $a) (local.get $end)))
                (local.set $d (f64.sub (f64.load (local.get $a)) (local.get $max)))
                (if (f64.gt (local.get $d) (f64.const -40)) (then (local.set $s (f64.add (local.get $s) (call $exp (local.get $d))))))
                (local.set $a (i32.add (local.get $a) (i32.const 8)))
                (br $sloop)))
            (f64.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 3)))
              (f64.add (local.get $max) (call $log (local.get $s))))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop))))
)
