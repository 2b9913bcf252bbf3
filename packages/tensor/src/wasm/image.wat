;; image.wat — nearest-neighbour 2× upsampling and its adjoint over planes of (N·C, H, W) float32 images, and sums
;; over trailing axes (a broadcast bias's gradient); all per item [start, end), so that the threads split the work.
;; See image.ts and cpu/reduce.ts for the reference loops.

;; Planes [start, end) of y (2h × 2w) = x (h × w) with each pixel repeated in a 2 × 2 block.
(func (export "upsample2x") (param $x i32) (param $y i32) (param $h i32) (param $w i32) (param $start i32) (param $end i32) (param $part i32)
  (local $from i32) (local $to i32) (local $i i32) (local $j i32) (local $w4 i32) (local $row2 i32) (local $v v128) (local $a v128) (local $b v128)
  (local $f f32)
  (local.set $w4 (i32.and (local.get $w) (i32.const -4)))
  (local.set $row2 (i32.shl (local.get $w) (i32.const 3))) ;; bytes in an output row: 2w floats
  (local.set $from (i32.add (local.get $x) (i32.shl (i32.mul (local.get $start) (i32.mul (local.get $h) (local.get $w))) (i32.const 2))))
  (local.set $to (i32.add (local.get $y) (i32.shl (i32.mul (local.get $start) (i32.shl (i32.mul (local.get $h) (local.get $w)) (i32.const 2))) (i32.const 2))))
  (local.set $i (i32.mul (local.get $start) (local.get $h)))
  (block $done
    (loop $rows ;; one input row → two output rows
      (br_if $done (i32.ge_u (local.get $i) (i32.mul (local.get $end) (local.get $h))))
      (local.set $j (i32.const 0))
      (block $vectors_done
        (loop $vectors
          (br_if $vectors_done (i32.ge_u (local.get $j) (local.get $w4)))
          (local.set $v (v128.load (local.get $from)))
          (local.set $a (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $v) (local.get $v)))       ;; x0 x0 x1 x1
          (local.set $b (i8x16.shuffle 8 9 10 11 8 9 10 11 12 13 14 15 12 13 14 15 (local.get $v) (local.get $v))) ;; x2 x2 x3 x3
          (v128.store (local.get $to) (local.get $a))
          (v128.store offset=16 (local.get $to) (local.get $b))
          (v128.store (i32.add (local.get $to) (local.get $row2)) (local.get $a))
          (v128.store offset=16 (i32.add (local.get $to) (local.get $row2)) (local.get $b))
          (local.set $from (i32.add (local.get $from) (i32.const 16)))
          (local.set $to (i32.add (local.get $to) (i32.const 32)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $vectors)))
      (block $tail_done
        (loop $tail
          (br_if $tail_done (i32.ge_u (local.get $j) (local.get $w)))
          (local.set $f (f32.load (local.get $from)))
          (f32.store (local.get $to) (local.get $f))
          (f32.store offset=4 (local.get $to) (local.get $f))
          (f32.store (i32.add (local.get $to) (local.get $row2)) (local.get $f))
          (f32.store offset=4 (i32.add (local.get $to) (local.get $row2)) (local.get $f))
          (local.set $from (i32.add (local.get $from) (i32.const 4)))
          (local.set $to (i32.add (local.get $to) (i32.const 8)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $tail)))
      (local.set $to (i32.add (local.get $to) (local.get $row2))) ;; past the second output row
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rows))))

;; Planes [start, end) of dx (h × w) = the sums of dy's (2h × 2w) 2 × 2 blocks: (top-left + top-right) + (bottom-left
;; + bottom-right), in float32.
(func (export "upsample2xGrad") (param $dy i32) (param $dx i32) (param $h i32) (param $w i32) (param $start i32) (param $end i32) (param $part i32)
  (local $from i32) (local $to i32) (local $i i32) (local $j i32) (local $w4 i32) (local $row2 i32) (local $a v128) (local $b v128)
  (local $c v128) (local $d v128)
  (local.set $w4 (i32.and (local.get $w) (i32.const -4)))
  (local.set $row2 (i32.shl (local.get $w) (i32.const 3)))
  (local.set $to (i32.add (local.get $dx) (i32.shl (i32.mul (local.get $start) (i32.mul (local.get $h) (local.get $w))) (i32.const 2))))
  (local.set $from (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $start) (i32.shl (i32.mul (local.get $h) (local.get $w)) (i32.const 2))) (i32.const 2))))
  (local.set $i (i32.mul (local.get $start) (local.get $h)))
  (block $done
    (loop $rows
      (br_if $done (i32.ge_u (local.get $i) (i32.mul (local.get $end) (local.get $h))))
      (local.set $j (i32.const 0))
      (block $vectors_done
        (loop $vectors
          (br_if $vectors_done (i32.ge_u (local.get $j) (local.get $w4)))
          (local.set $a (v128.load (local.get $from)))
          (local.set $b (v128.load offset=16 (local.get $from)))
          (local.set $c (v128.load (i32.add (local.get $from) (local.get $row2))))
          (local.set $d (v128.load offset=16 (i32.add (local.get $from) (local.get $row2))))
          (v128.store (local.get $to) (f32x4.add
            (f32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b))
                       (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b)))
            (f32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $c) (local.get $d))
                       (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $c) (local.get $d)))))
          (local.set $from (i32.add (local.get $from) (i32.const 32)))
          (local.set $to (i32.add (local.get $to) (i32.const 16)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $vectors)))
      (block $tail_done
        (loop $tail
          (br_if $tail_done (i32.ge_u (local.get $j) (local.get $w)))
          (f32.store (local.get $to) (f32.add
            (f32.add (f32.load (local.get $from)) (f32.load offset=4 (local.get $from)))
            (f32.add (f32.load (i32.add (local.get $from) (local.get $row2))) (f32.load offset=4 (i32.add (local.get $from) (local.get $row2))))))
          (local.set $from (i32.add (local.get $from) (i32.const 8)))
          (local.set $to (i32.add (local.get $to) (i32.const 4)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $tail)))
      (local.set $from (i32.add (local.get $from) (local.get $row2)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rows))))

;; Rows [start, end) of out[r] = Σ_j x[r·cols + j]: accumulated in float64 in order and rounded once, as the
;; JavaScript reduction does (the same bits).
(func (export "sumTrailing") (param $x i32) (param $out i32) (param $cols i32) (param $start i32) (param $end i32) (param $part i32)
  (local $r i32) (local $p i32) (local $stop i32) (local $s f64)
  (local.set $r (local.get $start))
  (block $done
    (loop $rows
      (br_if $done (i32.ge_u (local.get $r) (local.get $end)))
      (local.set $p (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
      (local.set $stop (i32.add (local.get $p) (i32.shl (local.get $cols) (i32.const 2))))
      (local.set $s (f64.const 0))
      (block $sum_done
        (loop $sum
          (br_if $sum_done (i32.ge_u (local.get $p) (local.get $stop)))
          (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (br $sum)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (f32.demote_f64 (local.get $s)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows))))
