;; elementwise.wat — binary arithmetic with broadcasting along a row, column sums (the batch-axis reduction) and the
;; Adam update, on float32.

;; @for op in @simd-binary
;; out[j] = {op}(a[j·sa], b[j·sb]) for j < n, with element strides sa, sb ∈ {0, 1} (0 repeats one element: broadcasting).
;; Whole vectors first, then the last n mod 4 elements one by one: nothing outside the n elements is written (a call
;; may cover one row of a larger tensor).
(func (export "{op}") (param $a i32) (param $sa i32) (param $b i32) (param $sb i32) (param $out i32) (param $n i32)
  (local $end i32) (local $end4 i32) (local $va v128) (local $vb v128) (local $ca v128) (local $cb v128)
  (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
  (local.set $end4 (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
  (local.set $sa (i32.shl (local.get $sa) (i32.const 2))) ;; bytes per element step: 4 or 0
  (local.set $sb (i32.shl (local.get $sb) (i32.const 2)))
  ;; a broadcast operand's one element in all lanes, read once (never as a vector: its block may end right after it)
  (if (i32.and (i32.eqz (local.get $sa)) (i32.ne (local.get $n) (i32.const 0))) (then (local.set $ca (v128.load32_splat (local.get $a)))))
  (if (i32.and (i32.eqz (local.get $sb)) (i32.ne (local.get $n) (i32.const 0))) (then (local.set $cb (v128.load32_splat (local.get $b)))))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $out) (local.get $end4)))
      (local.set $va (if (result v128) (local.get $sa) (then (v128.load (local.get $a))) (else (local.get $ca))))
      (local.set $vb (if (result v128) (local.get $sb) (then (v128.load (local.get $b))) (else (local.get $cb))))
      (v128.store (local.get $out) {f})
      (local.set $a (i32.add (local.get $a) (i32.shl (local.get $sa) (i32.const 2))))
      (local.set $b (i32.add (local.get $b) (i32.shl (local.get $sb) (i32.const 2))))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $each)))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
      ;; the same vector arithmetic in lane 0, so an element's result does not depend on where it falls
      (local.set $va (f32x4.splat (f32.load (local.get $a))))
      (local.set $vb (f32x4.splat (f32.load (local.get $b))))
      (f32.store (local.get $out) (f32x4.extract_lane 0 {f}))
      (local.set $a (i32.add (local.get $a) (local.get $sa)))
      (local.set $b (i32.add (local.get $b) (local.get $sb)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $each))))
;; @end

;; out[j] = Σ_i x[i, j] for x (rows × cols): sums over the batch axis, accumulated in float64 in row order and rounded
;; once (the same order and precision as the JavaScript reduction, so the same results). f64x2 holds 2 columns.
;; Columns go 16 at a time while they last: 8 independent sums per row instead of 2, since each f64x2.add waits for
;; the one before it in its column (256 × 64: 3.0 → 2.35 µs, 256 × 256: 13.4 → 9.4); then 4 at a time, then one by one.
(func $sum4 (param $acc v128) (param $v v128) (param $hi i32) (result v128)
  (f64x2.add (local.get $acc) (f64x2.promote_low_f32x4
    (if (result v128) (local.get $hi) (then (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))) (else (local.get $v))))))
(func (export "sumRows") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
  (local $j i32) (local $i i32) (local $p i32) (local $v v128) (local $lo v128) (local $hi v128) (local $s f64)
  (local $cols4 i32) (local $cols16 i32) (local $stride i32) (local $o i32)
  (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
  (local.set $cols4 (i32.and (local.get $cols) (i32.const -4)))
  (local.set $cols16 (i32.and (local.get $cols) (i32.const -16)))
  (local.set $stride (i32.shl (local.get $cols) (i32.const 2)))
  (block $wide_done
    (loop $wide
      (br_if $wide_done (i32.ge_u (local.get $j) (local.get $cols16)))
      (local.set $a0 (v128.const f64x2 0 0)) (local.set $a1 (v128.const f64x2 0 0))
      (local.set $a2 (v128.const f64x2 0 0)) (local.set $a3 (v128.const f64x2 0 0))
      (local.set $a4 (v128.const f64x2 0 0)) (local.set $a5 (v128.const f64x2 0 0))
      (local.set $a6 (v128.const f64x2 0 0)) (local.set $a7 (v128.const f64x2 0 0))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $i (i32.const 0))
      (block $rows_done
        (loop $rows
          (br_if $rows_done (i32.ge_u (local.get $i) (local.get $rows)))
          (local.set $v (v128.load (local.get $p)))
          (local.set $a0 (call $sum4 (local.get $a0) (local.get $v) (i32.const 0)))
          (local.set $a1 (call $sum4 (local.get $a1) (local.get $v) (i32.const 1)))
          (local.set $v (v128.load offset=16 (local.get $p)))
          (local.set $a2 (call $sum4 (local.get $a2) (local.get $v) (i32.const 0)))
          (local.set $a3 (call $sum4 (local.get $a3) (local.get $v) (i32.const 1)))
          (local.set $v (v128.load offset=32 (local.get $p)))
          (local.set $a4 (call $sum4 (local.get $a4) (local.get $v) (i32.const 0)))
          (local.set $a5 (call $sum4 (local.get $a5) (local.get $v) (i32.const 1)))
          (local.set $v (v128.load offset=48 (local.get $p)))
          (local.set $a6 (call $sum4 (local.get $a6) (local.get $v) (i32.const 0)))
          (local.set $a7 (call $sum4 (local.get $a7) (local.get $v) (i32.const 1)))
          (local.set $p (i32.add (local.get $p) (local.get $stride)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $rows)))
      (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
      (v128.store64_lane 0 (local.get $o) (f32x4.demote_f64x2_zero (local.get $a0)))
      (v128.store64_lane offset=8 0 (local.get $o) (f32x4.demote_f64x2_zero (local.get $a1)))
      (v128.store64_lane offset=16 0 (local.get $o) (f32x4.demote_f64x2_zero (local.get $a2)))
      (v128.store64_lane offset=24 0 (local.get $o) (f32x4.demote_f64x2_zero (local.get $a3)))
      (v128.store64_lane offset=32 0 (local.get $o) (f32x4.demote_f64x2_zero (local.get $a4)))
      (v128.store64_lane offset=40 0 (local.get $o) (f32x4.demote_f64x2_zero (local.get $a5)))
      (v128.store64_lane offset=48 0 (local.get $o) (f32x4.demote_f64x2_zero (local.get $a6)))
      (v128.store64_lane offset=56 0 (local.get $o) (f32x4.demote_f64x2_zero (local.get $a7)))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (br $wide)))
  (block $blocks_done
    (loop $blocks
      (br_if $blocks_done (i32.ge_u (local.get $j) (local.get $cols4)))
      (local.set $lo (v128.const f64x2 0 0))
      (local.set $hi (v128.const f64x2 0 0))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $i (i32.const 0))
      (block $rows_done
        (loop $rows
          (br_if $rows_done (i32.ge_u (local.get $i) (local.get $rows)))
          (local.set $v (v128.load (local.get $p)))
          (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $v))))
          (local.set $hi (f64x2.add (local.get $hi) (f64x2.promote_low_f32x4
            (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
          (local.set $p (i32.add (local.get $p) (local.get $stride)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $rows)))
      (v128.store64_lane 0 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (f32x4.demote_f64x2_zero (local.get $lo)))
      (v128.store64_lane offset=8 0 (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (f32x4.demote_f64x2_zero (local.get $hi)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (br $blocks)))
  ;; the last cols mod 4 columns, one at a time
  (block $tail_done
    (loop $tail
      (br_if $tail_done (i32.ge_u (local.get $j) (local.get $cols)))
      (local.set $s (f64.const 0))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 2))))
      (local.set $i (i32.const 0))
      (block $rows_done
        (loop $rows
          (br_if $rows_done (i32.ge_u (local.get $i) (local.get $rows)))
          (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (local.get $stride)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $rows)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (f32.demote_f64 (local.get $s)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $tail))))

;; One Adam step over n elements, in float32, in the order of the composite in adam.ts:
;; g ← g + l2·θ; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; θ ← θ·decay − lr·(m/bc1)/(√(v/bc2) + ε).
;; The new θ, m, v go to po, mo, vo (they may be the inputs themselves: each element is read before it is written).
;; k holds the ten scalars, each splat over 4 lanes, in ADAM_SCALAR_ORDER: k0 β₁, k1 1 − β₁, k2 β₂, k3 1 − β₂, k4 bc1,
;; k5 bc2, k6 ε, k7 lr, k8 l2, k9 decay.
(func $adam4 (param $p v128) (param $g v128) (param $m v128) (param $v v128)
    (param $k0 v128) (param $k1 v128) (param $k2 v128) (param $k3 v128) (param $k4 v128) (param $k5 v128) (param $k6 v128)
    (param $k7 v128) (param $k8 v128) (param $k9 v128) (result v128 v128 v128)
  (local $mn v128) (local $vn v128)
  (local.set $g (f32x4.add (local.get $g) (f32x4.mul (local.get $p) (local.get $k8))))
  (local.set $mn (f32x4.add (f32x4.mul (local.get $m) (local.get $k0)) (f32x4.mul (local.get $g) (local.get $k1))))
  (local.set $vn (f32x4.add (f32x4.mul (local.get $v) (local.get $k2)) (f32x4.mul (f32x4.mul (local.get $g) (local.get $g)) (local.get $k3))))
  (f32x4.sub (f32x4.mul (local.get $p) (local.get $k9))
    (f32x4.mul
      (f32x4.div (f32x4.div (local.get $mn) (local.get $k4))
        (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vn) (local.get $k5))) (local.get $k6)))
      (local.get $k7)))
  (local.get $mn) (local.get $vn))

;; s points at 10 float32 scalars: β₁, 1 − β₁, β₂, 1 − β₂, bc1, bc2, ε, lr, l2, decay (ADAM_SCALAR_ORDER in adam.ts),
;; splat into locals once, before the loop (read inside it, they cost ten loads per vector: the stores to po, mo, vo
;; could alias s for all the compiler knows). n last, so that the threads can split the elements into ranges.
(func (export "adam") (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $po i32) (param $mo i32) (param $vo i32)
    (param $s i32) (param $n i32)
  (local $i i32) (local $n4 i32) (local $o i32) (local $rp v128) (local $rm v128) (local $rv v128)
  (local $k0 v128) (local $k1 v128) (local $k2 v128) (local $k3 v128) (local $k4 v128) (local $k5 v128) (local $k6 v128)
  (local $k7 v128) (local $k8 v128) (local $k9 v128)
  (local.set $k0 (v128.load32_splat (local.get $s))) (local.set $k1 (v128.load32_splat offset=4 (local.get $s)))
  (local.set $k2 (v128.load32_splat offset=8 (local.get $s))) (local.set $k3 (v128.load32_splat offset=12 (local.get $s)))
  (local.set $k4 (v128.load32_splat offset=16 (local.get $s))) (local.set $k5 (v128.load32_splat offset=20 (local.get $s)))
  (local.set $k6 (v128.load32_splat offset=24 (local.get $s))) (local.set $k7 (v128.load32_splat offset=28 (local.get $s)))
  (local.set $k8 (v128.load32_splat offset=32 (local.get $s))) (local.set $k9 (v128.load32_splat offset=36 (local.get $s)))
  (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (call $adam4 (v128.load (i32.add (local.get $p) (local.get $o))) (v128.load (i32.add (local.get $g) (local.get $o)))
        (v128.load (i32.add (local.get $m) (local.get $o))) (v128.load (i32.add (local.get $v) (local.get $o)))
        (local.get $k0) (local.get $k1) (local.get $k2) (local.get $k3) (local.get $k4) (local.get $k5) (local.get $k6)
        (local.get $k7) (local.get $k8) (local.get $k9))
      (local.set $rv) (local.set $rm) (local.set $rp)
      (v128.store (i32.add (local.get $po) (local.get $o)) (local.get $rp))
      (v128.store (i32.add (local.get $mo) (local.get $o)) (local.get $rm))
      (v128.store (i32.add (local.get $vo) (local.get $o)) (local.get $rv))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $each)))
  ;; the last n mod 4 elements, in lane 0
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (call $adam4 (v128.load32_splat (i32.add (local.get $p) (local.get $o))) (v128.load32_splat (i32.add (local.get $g) (local.get $o)))
        (v128.load32_splat (i32.add (local.get $m) (local.get $o))) (v128.load32_splat (i32.add (local.get $v) (local.get $o)))
        (local.get $k0) (local.get $k1) (local.get $k2) (local.get $k3) (local.get $k4) (local.get $k5) (local.get $k6)
        (local.get $k7) (local.get $k8) (local.get $k9))
      (local.set $rv) (local.set $rm) (local.set $rp)
      (f32.store (i32.add (local.get $po) (local.get $o)) (f32x4.extract_lane 0 (local.get $rp)))
      (f32.store (i32.add (local.get $mo) (local.get $o)) (f32x4.extract_lane 0 (local.get $rm)))
      (f32.store (i32.add (local.get $vo) (local.get $o)) (f32x4.extract_lane 0 (local.get $rv)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $each))))

;; The EMA update out = s·d + x·e over n float32 elements (d the decay, e = 1 − d, both float32), in the order of the
;; composite in ema.ts — two products, then their sum — so the same bits.
(func (export "ema") (param $s i32) (param $x i32) (param $out i32) (param $n i32) (param $d f32) (param $e f32)
  (local $i i32) (local $n4 i32) (local $o i32) (local $vd v128) (local $ve v128)
  (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
  (local.set $vd (f32x4.splat (local.get $d)))
  (local.set $ve (f32x4.splat (local.get $e)))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (v128.store (i32.add (local.get $out) (local.get $o))
        (f32x4.add (f32x4.mul (v128.load (i32.add (local.get $s) (local.get $o))) (local.get $vd))
          (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $o))) (local.get $ve))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $each)))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (f32.store (i32.add (local.get $out) (local.get $o))
        (f32.add (f32.mul (f32.load (i32.add (local.get $s) (local.get $o))) (local.get $d))
          (f32.mul (f32.load (i32.add (local.get $x) (local.get $o))) (local.get $e))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $each))))
