;; norm.wat — group normalisation over (N, C, H·W) float32 images, one sample-group at a time: sums in float64, the
;; per-element work in f32x4. See norm.ts for the formulas.

;; Σ v[i] and Σ (v[i] − mean)² over n floats at v, in float64 (two lanes per f64x2; the last n mod 4 one by one).
(func $sum (param $v i32) (param $n i32) (param $mean f32) (param $square i32) (result f64)
  (local $end i32) (local $end4 i32) (local $acc v128) (local $d v128) (local $m v128) (local $s f64) (local $e f64)
  (local.set $end (i32.add (local.get $v) (i32.shl (local.get $n) (i32.const 2))))
  (local.set $end4 (i32.add (local.get $v) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
  (local.set $m (f32x4.splat (local.get $mean)))
  (local.set $acc (v128.const f64x2 0 0))
  (block $done
    (loop $vectors
      (br_if $done (i32.ge_u (local.get $v) (local.get $end4)))
      (local.set $d (f32x4.sub (v128.load (local.get $v)) (local.get $m)))
      (if (local.get $square) (then (local.set $d (f32x4.mul (local.get $d) (local.get $d)))))
      (local.set $acc (f64x2.add (local.get $acc) (f64x2.add (f64x2.promote_low_f32x4 (local.get $d))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $d) (local.get $d))))))
      (local.set $v (i32.add (local.get $v) (i32.const 16)))
      (br $vectors)))
  (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $v) (local.get $end)))
      (local.set $e (f64.promote_f32 (f32.sub (f32.load (local.get $v)) (local.get $mean))))
      (local.set $s (f64.add (local.get $s) (select (f64.mul (local.get $e) (local.get $e)) (local.get $e) (local.get $square))))
      (local.set $v (i32.add (local.get $v) (i32.const 4)))
      (br $each)))
  (local.get $s))

;; out[i] = (a[i] − sa)·s1 + (b[i] − sb)·s2 + s0 for i < n (b = 0: no second term).
(func $affine (param $out i32) (param $a i32) (param $b i32) (param $n i32) (param $s1 f32) (param $s2 f32) (param $s0 f32)
    (param $sa f32) (param $sb f32)
  (local $end i32) (local $end4 i32) (local $v1 v128) (local $v2 v128) (local $v0 v128) (local $r v128) (local $va v128) (local $vb v128)
  (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))))
  (local.set $end4 (i32.add (local.get $out) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
  (local.set $v1 (f32x4.splat (local.get $s1)))
  (local.set $v2 (f32x4.splat (local.get $s2)))
  (local.set $v0 (f32x4.splat (local.get $s0)))
  (local.set $va (f32x4.splat (local.get $sa)))
  (local.set $vb (f32x4.splat (local.get $sb)))
  (block $done
    (loop $vectors
      (br_if $done (i32.ge_u (local.get $out) (local.get $end4)))
      (local.set $r (f32x4.add (f32x4.mul (f32x4.sub (v128.load (local.get $a)) (local.get $va)) (local.get $v1)) (local.get $v0)))
      (if (local.get $b) (then
        (local.set $r (f32x4.add (local.get $r) (f32x4.mul (f32x4.sub (v128.load (local.get $b)) (local.get $vb)) (local.get $v2))))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))))
      (v128.store (local.get $out) (local.get $r))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $vectors)))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
      ;; the same arithmetic in lane 0, so that an element's result does not depend on where it falls
      (local.set $r (f32x4.add (f32x4.mul (f32x4.sub (f32x4.splat (f32.load (local.get $a))) (local.get $va)) (local.get $v1)) (local.get $v0)))
      (if (local.get $b) (then
        (local.set $r (f32x4.add (local.get $r) (f32x4.mul (f32x4.sub (f32x4.splat (f32.load (local.get $b))) (local.get $vb)) (local.get $v2))))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))))
      (f32.store (local.get $out) (f32x4.extract_lane 0 (local.get $r)))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $each))))

;; y = (x − μ)·(r·γ[c]) + β[c] for each sample-group of samples [start, end) (G per sample, c/G channels of hw pixels
;; each); stats[2k], stats[2k + 1] = μ, r of sample-group k. Samples are independent: the threads split them.
(func (export "groupNorm") (param $x i32) (param $gamma i32) (param $beta i32) (param $y i32) (param $stats i32)
    (param $c i32) (param $groups i32) (param $hw i32) (param $eps f32) (param $start i32) (param $end i32) (param $part i32)
  (local $per i32) (local $m i32) (local $k i32) (local $j i32) (local $ch i32) (local $at i32) (local $mean f64) (local $r f64)
  (local $g f32)
  (local.set $per (i32.div_u (local.get $c) (local.get $groups)))
  (local.set $m (i32.mul (local.get $per) (local.get $hw)))
  (local.set $k (i32.mul (local.get $start) (local.get $groups)))
  (block $done
    (loop $each_group
      (br_if $done (i32.ge_u (local.get $k) (i32.mul (local.get $end) (local.get $groups))))
      (local.set $at (i32.shl (i32.mul (local.get $k) (local.get $m)) (i32.const 2)))
      (local.set $mean (f64.div (call $sum (i32.add (local.get $x) (local.get $at)) (local.get $m) (f32.const 0) (i32.const 0)) (f64.convert_i32_u (local.get $m))))
      ;; the variance about μ rounded to float32 (as the elements are), so that Σ (x − μ) stays exact-ish
      (local.set $r (f64.div (f64.const 1) (f64.sqrt (f64.add
        (f64.div (call $sum (i32.add (local.get $x) (local.get $at)) (local.get $m) (f32.demote_f64 (local.get $mean)) (i32.const 1)) (f64.convert_i32_u (local.get $m)))
        (f64.promote_f32 (local.get $eps))))))
      (f32.store (i32.add (local.get $stats) (i32.shl (local.get $k) (i32.const 3))) (f32.demote_f64 (local.get $mean)))
      (f32.store offset=4 (i32.add (local.get $stats) (i32.shl (local.get $k) (i32.const 3))) (f32.demote_f64 (local.get $r)))
      (local.set $j (i32.const 0))
      (loop $channels
        (local.set $ch (i32.add (i32.mul (i32.rem_u (local.get $k) (local.get $groups)) (local.get $per)) (local.get $j)))
        (local.set $g (f32.demote_f64 (f64.mul (local.get $r) (f64.promote_f32 (f32.load (i32.add (local.get $gamma) (i32.shl (local.get $ch) (i32.const 2))))))))
        (call $affine
          (i32.add (local.get $y) (i32.add (local.get $at) (i32.shl (i32.mul (local.get $j) (local.get $hw)) (i32.const 2))))
          (i32.add (local.get $x) (i32.add (local.get $at) (i32.shl (i32.mul (local.get $j) (local.get $hw)) (i32.const 2))))
          (i32.const 0) (local.get $hw) (local.get $g) (f32.const 0)
          (f32.load (i32.add (local.get $beta) (i32.shl (local.get $ch) (i32.const 2))))
          (f32.demote_f64 (local.get $mean)) (f32.const 0))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $channels (i32.lt_u (local.get $j) (local.get $per))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $each_group))))

;; Σ a[i]·(b[i] − sb) over n floats, in float64.
(func $dot (param $a i32) (param $b i32) (param $n i32) (param $sb f32) (result f64)
  (local $end i32) (local $end4 i32) (local $acc v128) (local $p v128) (local $s f64) (local $vb v128)
  (local.set $vb (f32x4.splat (local.get $sb)))
  (local.set $end (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
  (local.set $end4 (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
  (local.set $acc (v128.const f64x2 0 0))
  (block $done
    (loop $vectors
      (br_if $done (i32.ge_u (local.get $a) (local.get $end4)))
      (local.set $p (f32x4.mul (v128.load (local.get $a)) (f32x4.sub (v128.load (local.get $b)) (local.get $vb))))
      (local.set $acc (f64x2.add (local.get $acc) (f64x2.add (f64x2.promote_low_f32x4 (local.get $p))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $p) (local.get $p))))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $b (i32.add (local.get $b) (i32.const 16)))
      (br $vectors)))
  (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
      (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.mul (f32.load (local.get $a)) (f32.sub (f32.load (local.get $b)) (local.get $sb))))))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (local.set $b (i32.add (local.get $b) (i32.const 4)))
      (br $each)))
  (local.get $s))

;; groupNorm's backward for samples [start, end): with x̂ = (x − μ)·r, sample s's per-channel Σ dy·x̂ = r·Σ dy·(x − μ)
;; and Σ dy go to sums[s·2C + c] and sums[s·2C + C + c] (float64; the caller adds the samples in order: dγ, dβ); per
;; sample-group, with a = Σ_c γ_c·Σ dy / M and b = Σ_c γ_c·Σ dy·x̂ / M, dx = r·(dy·γ − a − x̂·b) = dy·(rγ) + (x − μ)·(−r²b) − ra.
(func (export "groupNormBackward") (param $dy i32) (param $x i32) (param $gamma i32) (param $stats i32) (param $dx i32)
    (param $sums i32) (param $c i32) (param $groups i32) (param $hw i32) (param $start i32) (param $end i32) (param $part i32)
  (local $per i32) (local $m i32) (local $k i32) (local $j i32) (local $ch i32) (local $at i32) (local $row i32)
  (local $mean f64) (local $r f64) (local $sd f64) (local $sdx f64) (local $a f64) (local $b f64) (local $g f64) (local $own i32)
  (local.set $per (i32.div_u (local.get $c) (local.get $groups)))
  (local.set $m (i32.mul (local.get $per) (local.get $hw)))
  (local.set $k (i32.mul (local.get $start) (local.get $groups)))
  (block $done
    (loop $each_group
      (br_if $done (i32.ge_u (local.get $k) (i32.mul (local.get $end) (local.get $groups))))
      ;; this sample's row of sums: 2C float64
      (local.set $own (i32.add (local.get $sums) (i32.shl (i32.mul (i32.div_u (local.get $k) (local.get $groups)) (i32.shl (local.get $c) (i32.const 1))) (i32.const 3))))
      (local.set $at (i32.shl (i32.mul (local.get $k) (local.get $m)) (i32.const 2)))
      (local.set $mean (f64.promote_f32 (f32.load (i32.add (local.get $stats) (i32.shl (local.get $k) (i32.const 3))))))
      (local.set $r (f64.promote_f32 (f32.load offset=4 (i32.add (local.get $stats) (i32.shl (local.get $k) (i32.const 3))))))
      (local.set $a (f64.const 0))
      (local.set $b (f64.const 0))
      (local.set $j (i32.const 0))
      (loop $channels
        (local.set $ch (i32.add (i32.mul (i32.rem_u (local.get $k) (local.get $groups)) (local.get $per)) (local.get $j)))
        (local.set $row (i32.add (local.get $at) (i32.shl (i32.mul (local.get $j) (local.get $hw)) (i32.const 2))))
        (local.set $sd (call $sum (i32.add (local.get $dy) (local.get $row)) (local.get $hw) (f32.const 0) (i32.const 0)))
        (local.set $sdx (f64.mul (local.get $r)
          (call $dot (i32.add (local.get $dy) (local.get $row)) (i32.add (local.get $x) (local.get $row)) (local.get $hw) (f32.demote_f64 (local.get $mean)))))
        (f64.store (i32.add (local.get $own) (i32.shl (local.get $ch) (i32.const 3))) (local.get $sdx))
        (f64.store (i32.add (local.get $own) (i32.shl (i32.add (local.get $c) (local.get $ch)) (i32.const 3))) (local.get $sd))
        (local.set $g (f64.promote_f32 (f32.load (i32.add (local.get $gamma) (i32.shl (local.get $ch) (i32.const 2))))))
        (local.set $a (f64.add (local.get $a) (f64.mul (local.get $g) (local.get $sd))))
        (local.set $b (f64.add (local.get $b) (f64.mul (local.get $g) (local.get $sdx))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $channels (i32.lt_u (local.get $j) (local.get $per))))
      (local.set $a (f64.div (local.get $a) (f64.convert_i32_u (local.get $m))))
      (local.set $b (f64.div (local.get $b) (f64.convert_i32_u (local.get $m))))
      (local.set $j (i32.const 0))
      (loop $channels
        (local.set $ch (i32.add (i32.mul (i32.rem_u (local.get $k) (local.get $groups)) (local.get $per)) (local.get $j)))
        (local.set $row (i32.add (local.get $at) (i32.shl (i32.mul (local.get $j) (local.get $hw)) (i32.const 2))))
        (local.set $g (f64.promote_f32 (f32.load (i32.add (local.get $gamma) (i32.shl (local.get $ch) (i32.const 2))))))
        (call $affine (i32.add (local.get $dx) (local.get $row)) (i32.add (local.get $dy) (local.get $row)) (i32.add (local.get $x) (local.get $row))
          (local.get $hw) (f32.demote_f64 (f64.mul (local.get $r) (local.get $g)))
          (f32.demote_f64 (f64.neg (f64.mul (f64.mul (local.get $r) (local.get $r)) (local.get $b))))
          (f32.demote_f64 (f64.neg (f64.mul (local.get $r) (local.get $a))))
          (f32.const 0) (f32.demote_f64 (local.get $mean)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $channels (i32.lt_u (local.get $j) (local.get $per))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $each_group))))
