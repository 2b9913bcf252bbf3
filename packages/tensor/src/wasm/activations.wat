;; activations.wat — the loops that run the SIMD ops of src/formulas.ts and their derivatives over float32 memory, 4 lanes
;; at a time, and the helpers their formulas call (exp, expm1, σ, tanh).
;; Baseline SIMD has no exp, so $exp and $expm1 are built from + − × (below). Each loop runs over whole vectors, then does the
;; last n mod 4 elements in lane 0 of a vector (the same arithmetic, so every element gets the same result).

;; The shared part of exp and expm1, to about 2 ulp. Reference: Cody & Waite range reduction, as in Cephes expf:
;; x = k·ln2 + r with k = round(x / ln2), |r| ≤ ln2/2 (ln2 split in a high part exact in float32 and a low part), and
;; e^r − 1 = r + r²/2! + … + r⁷/7! (truncation ≤ 1.5e-8 relative). Returns k (as float32 lanes) and e^r − 1.
(func $reduce (param $x v128) (result v128 v128)
  (local $k v128) (local $r v128) (local $p v128)
  (local.set $k (f32x4.nearest (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))))
  (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $k) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
  (local.set $r (f32x4.add (local.get $r) (f32x4.mul (local.get $k) (v128.const f32x4 2.12194440e-4 2.12194440e-4 2.12194440e-4 2.12194440e-4))))
  ;; Horner: p = r + r²(1/2 + r(1/6 + r(1/24 + r(1/120 + r(1/720 + r/5040)))))
  (local.set $p (f32x4.add (v128.const f32x4 1.38888889e-3 1.38888889e-3 1.38888889e-3 1.38888889e-3)
    (f32x4.mul (local.get $r) (v128.const f32x4 1.98412698e-4 1.98412698e-4 1.98412698e-4 1.98412698e-4))))
  (local.set $p (f32x4.add (v128.const f32x4 8.33333333e-3 8.33333333e-3 8.33333333e-3 8.33333333e-3) (f32x4.mul (local.get $r) (local.get $p))))
  (local.set $p (f32x4.add (v128.const f32x4 4.16666667e-2 4.16666667e-2 4.16666667e-2 4.16666667e-2) (f32x4.mul (local.get $r) (local.get $p))))
  (local.set $p (f32x4.add (v128.const f32x4 0.166666667 0.166666667 0.166666667 0.166666667) (f32x4.mul (local.get $r) (local.get $p))))
  (local.set $p (f32x4.add (v128.const f32x4 0.5 0.5 0.5 0.5) (f32x4.mul (local.get $r) (local.get $p))))
  (local.get $k)
  (f32x4.add (local.get $r) (f32x4.mul (f32x4.mul (local.get $r) (local.get $r)) (local.get $p))))

;; 2ᵏ for integer-valued float lanes k ∈ [−126, 127]: k + 127 written into the exponent bits. The float → int conversion
;; is the "magic number" one: adding 1.5·2²³ + 127 leaves the integer k + 127 (< 2⁹) in the low mantissa bits, and the
;; shift by 23 moves exactly those into the exponent, the rest out of the word. One add and one shift; V8 lowers
;; i32x4.trunc_sat_f32x4_s to about ten x86 instructions (its NaN and overflow handling), and the exp's cost is in such.
(func $pow2 (param $k v128) (result v128)
  (i32x4.shl (f32x4.add (local.get $k) (v128.const f32x4 12583039 12583039 12583039 12583039)) (i32.const 23)))

;; The clamps below use pmin/pmax (b < a ? b : a, one SSE instruction each) rather than min/max (NaN- and ±0-exact, about
;; seven): they agree on every number, and a NaN x gives NaN either way (it passes the clamp and poisons the series).

;; e^x − 1 for x clamped to [−87, 88]: 2ᵏ·(e^r − 1) + (2ᵏ − 1). For k = 0 that is the series itself, so small x keep
;; their full relative precision (the reason for expm1 rather than exp − 1); expm1(±0) = ±0 exactly.
(func $expm1 (param $x v128) (result v128)
  (local $k v128) (local $p v128) (local $two_k v128)
  (call $reduce (f32x4.pmax (f32x4.pmin (local.get $x) (v128.const f32x4 88 88 88 88)) (v128.const f32x4 -87 -87 -87 -87)))
  (local.set $p) (local.set $k)
  (local.set $two_k (call $pow2 (local.get $k)))
  (v128.bitselect (local.get $x)
    (f32x4.add (f32x4.mul (local.get $two_k) (local.get $p)) (f32x4.sub (local.get $two_k) (v128.const f32x4 1 1 1 1)))
    (f32x4.eq (local.get $x) (v128.const f32x4 0 0 0 0))))

;; e^x = 2ᵏ·(1 + (e^r − 1)) for x clamped to [−104, 88], with 2ᵏ applied as 2^⌊k/2⌋ · 2^(k − ⌊k/2⌋) so both factors
;; are normal numbers and results down to the float32 subnormals (e^(−103.9)) come out right; below −104, 0.
;; NaN stays NaN (the comparison is false for it).
(func $exp (param $x v128) (result v128)
  (local $k v128) (local $p v128) (local $k1 v128)
  (call $reduce (f32x4.pmax (f32x4.pmin (local.get $x) (v128.const f32x4 88 88 88 88)) (v128.const f32x4 -104 -104 -104 -104)))
  (local.set $p) (local.set $k)
  (local.set $k1 (f32x4.floor (f32x4.mul (local.get $k) (v128.const f32x4 0.5 0.5 0.5 0.5))))
  (v128.bitselect (v128.const f32x4 0 0 0 0)
    (f32x4.mul (f32x4.mul (f32x4.add (local.get $p) (v128.const f32x4 1 1 1 1)) (call $pow2 (local.get $k1)))
      (call $pow2 (f32x4.sub (local.get $k) (local.get $k1))))
    (f32x4.lt (local.get $x) (v128.const f32x4 -104 -104 -104 -104))))

;; σ(x) = 1 / (1 + e^(−x)) written with e = e^(−|x|) ≤ 1, so nothing overflows: 1/(1 + e) for x ≥ 0, e/(1 + e) otherwise.
(func $logistic (param $x v128) (result v128)
  (local $e v128) (local $inv v128)
  (local.set $e (call $exp (f32x4.neg (f32x4.abs (local.get $x)))))
  (local.set $inv (f32x4.div (v128.const f32x4 1 1 1 1) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e))))
  (v128.bitselect (local.get $inv) (f32x4.mul (local.get $e) (local.get $inv)) (f32x4.ge (local.get $x) (v128.const f32x4 0 0 0 0))))

;; tanh(x) = sign(x)·(−u)/(2 + u) with u = e^(−2|x|) − 1 ∈ (−1, 0]: no overflow, full precision near 0.
(func $tanh (param $x v128) (result v128)
  (local $u v128) (local $t v128)
  (local.set $u (call $expm1 (f32x4.mul (f32x4.abs (local.get $x)) (v128.const f32x4 -2 -2 -2 -2))))
  (local.set $t (f32x4.div (f32x4.neg (local.get $u)) (f32x4.add (v128.const f32x4 2 2 2 2) (local.get $u))))
  ;; |t| with the sign bit of x (so tanh(±0) = ±0)
  (v128.or (f32x4.abs (local.get $t)) (v128.and (local.get $x) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))))

;; The ops themselves, $<op>_f(x) and $<op>_df(x, y), and $activate (the fused linear layer's epilogue) are printed
;; from src/formulas.ts into formulas.generated.wat at build time; the loops below run them over memory.

;; @for op in @simd-unary
;; out = {op}(x) over n elements: whole vectors, then the last n mod 4 elements one by one (in lane 0 of a vector)
(func (export "{op}") (param $x i32) (param $out i32) (param $n i32)
  (local $end i32) (local $end4 i32)
  (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
  (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $x) (local.get $end4)))
      (v128.store (local.get $out) (call ${op}_f (v128.load (local.get $x))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $out (i32.add (local.get $out) (i32.const 16)))
      (br $each)))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (f32.store (local.get $out) (f32x4.extract_lane 0 (call ${op}_f (f32x4.splat (f32.load (local.get $x))))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $each))))

;; dx = dy · {op}'(x), given y = {op}(x)
(func (export "{op}Grad") (param $x i32) (param $y i32) (param $dy i32) (param $dx i32) (param $n i32)
  (local $end i32) (local $end4 i32)
  (local.set $end (i32.add (local.get $x) (i32.shl (local.get $n) (i32.const 2))))
  (local.set $end4 (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $x) (local.get $end4)))
      (v128.store (local.get $dx)
        (f32x4.mul (v128.load (local.get $dy)) (call ${op}_df (v128.load (local.get $x)) (v128.load (local.get $y)))))
      (local.set $x (i32.add (local.get $x) (i32.const 16)))
      (local.set $y (i32.add (local.get $y) (i32.const 16)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
      (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
      (br $each)))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
      (f32.store (local.get $dx) (f32x4.extract_lane 0
        (f32x4.mul (f32x4.splat (f32.load (local.get $dy)))
          (call ${op}_df (f32x4.splat (f32.load (local.get $x))) (f32x4.splat (f32.load (local.get $y)))))))
      (local.set $x (i32.add (local.get $x) (i32.const 4)))
      (local.set $y (i32.add (local.get $y) (i32.const 4)))
      (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
      (local.set $dx (i32.add (local.get $dx) (i32.const 4)))
      (br $each))))
;; @end
