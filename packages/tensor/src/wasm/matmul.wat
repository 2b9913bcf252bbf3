;; matmul.wat — C = op(A)·B (+ bias) in float32 with WebAssembly SIMD: a 4×8 register tile, then the edges.
;; Pointers are byte offsets into the one memory; op(A)[i, p] sits at a + 4·(i·ai + p·ap) and op(B)[p, j] at
;; b + 4·(p·bp + j·bj), so transposed operands can be read in place (the edges are). The tiles read A from panels of
;; 4 rows (packA) and need 8 neighbours of a row of op(B) side by side: a row-major B has them; otherwise (and for
;; large B, see packB) B is first packed into panels of 8 columns.
;; Rows [row0, row1) of C only, so threads can split C by rows; every row is computed the same way, whatever the
;; split: the same results on one thread or many.
;;
;; Why 4×8: the tile's 32 sums live in 8 v128 registers; each step of p loads one row of the B block (2 v128) and
;; broadcasts 4 elements of A (4 splats), then does 8 multiplies and 8 adds of 4 lanes each: 32 multiply-adds (64
;; flops) for 6 loads, in 8 + 2 + 1 = 11 of the 16 SIMD registers of x86-64. Why no FMA: baseline SIMD128 has none (relaxed SIMD
;; does, behind a flag in Node 20), so every term is a multiply then an add, rounded twice, in the order p = 0…K−1.

;; C[i..i+4, j..j+8] for rows i…i+3, columns j…j+7, over the terms p0 ≤ p < p1: the sums start at the bias (or 0)
;; when `first`, else at C's partial sums (stored as float32, so reloading them is exact: a block boundary in p changes
;; nothing); the activation is applied to y when `last`.
;; The 8 columns of op(B) start at b (at p = 0) and step by bs bytes per p (a panel: 32; a row-major B: 4·N).
(func $tile4x8 (param $a i32) (param $b i32) (param $bs i32) (param $c i32) (param $bias i32) (param $y i32) (param $act i32)
    (param $n i32) (param $p0 i32) (param $p1 i32) (param $first i32) (param $last i32) (param $i i32) (param $j i32)
  (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
  (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
  (local $b0 v128) (local $b1 v128) (local $s v128)
  (local $pa i32) (local $pb i32) (local $pend i32) (local $o i32) (local $n4 i32)
  (local.set $n4 (i32.shl (local.get $n) (i32.const 2)))
  (local.set $o (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2)))
  (if (i32.eqz (local.get $first))
    (then ;; continue the sums stored in C
      (local.set $pa (i32.add (local.get $c) (local.get $o)))
      (local.set $c00 (v128.load (local.get $pa))) (local.set $c01 (v128.load offset=16 (local.get $pa)))
      (local.set $pa (i32.add (local.get $pa) (local.get $n4)))
      (local.set $c10 (v128.load (local.get $pa))) (local.set $c11 (v128.load offset=16 (local.get $pa)))
      (local.set $pa (i32.add (local.get $pa) (local.get $n4)))
      (local.set $c20 (v128.load (local.get $pa))) (local.set $c21 (v128.load offset=16 (local.get $pa)))
      (local.set $pa (i32.add (local.get $pa) (local.get $n4)))
      (local.set $c30 (v128.load (local.get $pa))) (local.set $c31 (v128.load offset=16 (local.get $pa))))
    (else (if (local.get $bias) ;; start at the bias (the locals start at 0)
      (then
        (local.set $c00 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $c01 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $c10 (local.get $c00)) (local.set $c11 (local.get $c01))
        (local.set $c20 (local.get $c00)) (local.set $c21 (local.get $c01))
        (local.set $c30 (local.get $c00)) (local.set $c31 (local.get $c01))))))
  ;; a: this tile's panel of A (4 rows interleaved, 16 bytes per p; see packA), from term p0
  (local.set $pa (i32.add (local.get $a) (i32.shl (local.get $p0) (i32.const 4))))
  (local.set $pb (i32.add (local.get $b) (i32.mul (local.get $p0) (local.get $bs))))
  (local.set $pend (i32.add (local.get $pb) (i32.mul (i32.sub (local.get $p1) (local.get $p0)) (local.get $bs))))
  (block $done
    (br_if $done (i32.ge_u (local.get $pb) (local.get $pend)))
    (loop $terms
      (local.set $b0 (v128.load (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $s (v128.load32_splat (local.get $pa)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=4 (local.get $pa)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=8 (local.get $pa)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=12 (local.get $pa)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
      (local.set $pb (i32.add (local.get $pb) (local.get $bs)))
      (br_if $terms (i32.lt_u (local.get $pb) (local.get $pend)))))
  ;; z = the sums, into C (stored here, not through $store_rows: that call, too large to inline with its activations,
  ;; cost ~8 % of a K = 64 product); then, after the last block of terms and when y ≠ 0, act(z) into y at the same place
  (local.set $pa (i32.add (local.get $c) (local.get $o)))
  (v128.store (local.get $pa) (local.get $c00)) (v128.store offset=16 (local.get $pa) (local.get $c01))
  (local.set $pa (i32.add (local.get $pa) (local.get $n4)))
  (v128.store (local.get $pa) (local.get $c10)) (v128.store offset=16 (local.get $pa) (local.get $c11))
  (local.set $pa (i32.add (local.get $pa) (local.get $n4)))
  (v128.store (local.get $pa) (local.get $c20)) (v128.store offset=16 (local.get $pa) (local.get $c21))
  (local.set $pa (i32.add (local.get $pa) (local.get $n4)))
  (v128.store (local.get $pa) (local.get $c30)) (v128.store offset=16 (local.get $pa) (local.get $c31))
  (if (i32.and (local.get $last) (i32.ne (local.get $y) (i32.const 0)))
    (then
      (call $store_rows (i32.add (local.get $y) (local.get $o)) (local.get $n4) (local.get $act)
        (local.get $c00) (local.get $c01) (local.get $c10) (local.get $c11) (local.get $c20) (local.get $c21) (local.get $c30) (local.get $c31)))))

;; Stores a 4×8 tile (4 rows of 2 vectors) at p, rows n4 bytes apart, through the activation numbered act (0: none).
(func $store_rows (param $p i32) (param $n4 i32) (param $act i32)
    (param $r00 v128) (param $r01 v128) (param $r10 v128) (param $r11 v128)
    (param $r20 v128) (param $r21 v128) (param $r30 v128) (param $r31 v128)
  (v128.store (local.get $p) (call $activate (local.get $act) (local.get $r00)))
  (v128.store offset=16 (local.get $p) (call $activate (local.get $act) (local.get $r01)))
  (local.set $p (i32.add (local.get $p) (local.get $n4)))
  (v128.store (local.get $p) (call $activate (local.get $act) (local.get $r10)))
  (v128.store offset=16 (local.get $p) (call $activate (local.get $act) (local.get $r11)))
  (local.set $p (i32.add (local.get $p) (local.get $n4)))
  (v128.store (local.get $p) (call $activate (local.get $act) (local.get $r20)))
  (v128.store offset=16 (local.get $p) (call $activate (local.get $act) (local.get $r21)))
  (local.set $p (i32.add (local.get $p) (local.get $n4)))
  (v128.store (local.get $p) (call $activate (local.get $act) (local.get $r30)))
  (v128.store offset=16 (local.get $p) (call $activate (local.get $act) (local.get $r31))))

;; C[i, j] for rows [i0, i1) and columns [j0, j1) as scalar dot products, in the tile's order: bias, then p = 0…K−1.
(func $dots (param $a i32) (param $b i32) (param $c i32) (param $bias i32) (param $y i32) (param $act i32)
    (param $n i32) (param $k i32) (param $ai i32) (param $ap i32) (param $bp i32) (param $bj i32)
    (param $i0 i32) (param $i1 i32) (param $j0 i32) (param $j1 i32)
  (local $i i32) (local $j i32) (local $p i32) (local $pa i32) (local $pb i32) (local $o i32) (local $sum f32)
  (local.set $i (local.get $i0))
  (block $rows_done
    (loop $rows
      (br_if $rows_done (i32.ge_u (local.get $i) (local.get $i1)))
      (local.set $j (local.get $j0))
      (block $cols_done
        (loop $cols
          (br_if $cols_done (i32.ge_u (local.get $j) (local.get $j1)))
          (local.set $sum (f32.const 0))
          (if (local.get $bias)
            (then (local.set $sum (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $pa (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $ai)) (i32.const 2))))
          (local.set $pb (i32.add (local.get $b) (i32.shl (i32.mul (local.get $j) (local.get $bj)) (i32.const 2))))
          (local.set $p (i32.const 0))
          (block $terms_done
            (loop $terms
              (br_if $terms_done (i32.ge_u (local.get $p) (local.get $k)))
              (local.set $sum (f32.add (local.get $sum) (f32.mul (f32.load (local.get $pa)) (f32.load (local.get $pb)))))
              (local.set $pa (i32.add (local.get $pa) (i32.shl (local.get $ap) (i32.const 2))))
              (local.set $pb (i32.add (local.get $pb) (i32.shl (local.get $bp) (i32.const 2))))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (br $terms)))
          (local.set $o (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2)))
          (f32.store (i32.add (local.get $c) (local.get $o)) (local.get $sum))
          (if (local.get $y)
            (then (f32.store (i32.add (local.get $y) (local.get $o))
              (f32x4.extract_lane 0 (call $activate (local.get $act) (f32x4.splat (local.get $sum)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $cols)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $rows))))

;; The first n ≤ 4 floats at p as a vector, the other lanes 0 (a row of a narrow B or bias; nothing read past them).
(func $loadNarrow (param $p i32) (param $n i32) (result v128)
  (if (result v128) (i32.eq (local.get $n) (i32.const 4))
    (then (v128.load (local.get $p)))
    (else (if (result v128) (i32.ge_u (local.get $n) (i32.const 2))
      (then (if (result v128) (i32.eq (local.get $n) (i32.const 3))
        (then (f32x4.replace_lane 2 (v128.load64_zero (local.get $p)) (f32.load offset=8 (local.get $p))))
        (else (v128.load64_zero (local.get $p)))))
      (else (v128.load32_zero (local.get $p)))))))

;; Stores the first n ≤ 4 lanes of v at p (nothing written past them).
(func $storeNarrow (param $p i32) (param $n i32) (param $v v128)
  (if (i32.eq (local.get $n) (i32.const 4))
    (then (v128.store (local.get $p) (local.get $v)))
    (else
      (if (i32.ge_u (local.get $n) (i32.const 2))
        (then (v128.store64_lane 0 (local.get $p) (local.get $v)))
        (else (v128.store32_lane 0 (local.get $p) (local.get $v))))
      (if (i32.eq (local.get $n) (i32.const 3))
        (then (v128.store32_lane offset=8 2 (local.get $p) (local.get $v)))))))

;; C = op(A)·B (+ bias) for a narrow C (N ≤ 4 columns: an output layer's N = 2) and a row-major B (its rows bp floats
;; apart), rows [row0, row1): the 4×8 tile would spend most of its work on padding (3/4 at N = 2). Here the N sums of a row sit side by
;; side in one vector; a panel of 4 rows (packA) keeps 4 such vectors, and each step of p loads B's row p once (N
;; floats) and adds A[i, p]·B[p, ·] to each: 4 multiplies and 4 adds for 4N multiply-adds. Each C[i, j] is still bias
;; (or 0) plus the terms p = 0…K−1 in order, rounded after each multiply and add: the tile's bits. Rows outside whole
;; panels are the same dot products as the tile's edges ($dots).
(func $matmulNarrow (export "matmulNarrow") (param $a i32) (param $apacked i32) (param $b i32) (param $c i32) (param $bias i32)
    (param $n i32) (param $k i32) (param $ai i32) (param $ap i32) (param $bp i32) (param $row0 i32) (param $row1 i32)
  (local $i i32) (local $t0 i32) (local $i4 i32) (local $pa i32) (local $pb i32) (local $pend i32) (local $o i32)
  (local $n4 i32) (local $bs i32) (local $start v128)
  (local $c00 v128) (local $c10 v128) (local $c20 v128) (local $c30 v128) (local $b0 v128) (local $s v128)
  (local.set $n4 (i32.shl (local.get $n) (i32.const 2)))
  (local.set $bs (i32.shl (local.get $bp) (i32.const 2)))
  (if (local.get $bias) (then (local.set $start (call $loadNarrow (local.get $bias) (local.get $n)))))
  ;; whole panels of 4 inside [row0, row1), as in $matmul
  (local.set $t0 (i32.and (i32.add (local.get $row0) (i32.const 3)) (i32.const -4)))
  (local.set $i4 (i32.and (local.get $row1) (i32.const -4)))
  (if (i32.lt_u (local.get $i4) (local.get $t0)) (then (local.set $t0 (local.get $row1)) (local.set $i4 (local.get $row1))))
  (local.set $i (local.get $t0))
  (block $rows_done
    (loop $rows
      (br_if $rows_done (i32.ge_u (local.get $i) (local.get $i4)))
      (local.set $c00 (local.get $start)) (local.set $c10 (local.get $start))
      (local.set $c20 (local.get $start)) (local.set $c30 (local.get $start))
      (local.set $pa (i32.add (local.get $apacked) (i32.mul (i32.shl (local.get $i) (i32.const 2)) (local.get $k))))
      (local.set $pb (local.get $b))
      (local.set $pend (i32.add (local.get $b) (i32.mul (local.get $k) (local.get $bs))))
      (block $terms_done
        (br_if $terms_done (i32.ge_u (local.get $pb) (local.get $pend)))
        (loop $terms
          (local.set $b0 (call $loadNarrow (local.get $pb) (local.get $n)))
          (local.set $s (v128.load32_splat (local.get $pa)))
          (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
          (local.set $s (v128.load32_splat offset=4 (local.get $pa)))
          (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
          (local.set $s (v128.load32_splat offset=8 (local.get $pa)))
          (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
          (local.set $s (v128.load32_splat offset=12 (local.get $pa)))
          (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
          (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
          (local.set $pb (i32.add (local.get $pb) (local.get $bs)))
          (br_if $terms (i32.lt_u (local.get $pb) (local.get $pend)))))
      (local.set $o (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $n4))))
      (call $storeNarrow (local.get $o) (local.get $n) (local.get $c00))
      (call $storeNarrow (i32.add (local.get $o) (local.get $n4)) (local.get $n) (local.get $c10))
      (call $storeNarrow (i32.add (local.get $o) (i32.shl (local.get $n4) (i32.const 1))) (local.get $n) (local.get $c20))
      (call $storeNarrow (i32.add (local.get $o) (i32.mul (local.get $n4) (i32.const 3))) (local.get $n) (local.get $c30))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $rows)))
  ;; the rows before and after the panels
  (call $dots (local.get $a) (local.get $b) (local.get $c) (local.get $bias) (i32.const 0) (i32.const 0)
    (local.get $n) (local.get $k) (local.get $ai) (local.get $ap) (local.get $bp) (i32.const 1)
    (local.get $row0) (local.get $t0) (i32.const 0) (local.get $n))
  (call $dots (local.get $a) (local.get $b) (local.get $c) (local.get $bias) (i32.const 0) (i32.const 0)
    (local.get $n) (local.get $k) (local.get $ai) (local.get $ap) (local.get $bp) (i32.const 1)
    (local.get $i4) (local.get $row1) (i32.const 0) (local.get $n)))

;; C = op(A)·op(B) (+ bias) for rows [row0, row1) of C, and Y = act(C) when y ≠ 0 (the fused linear layer: matmul,
;; bias and activation in one pass over C). bias = 0 or y = 0: none (the allocator never hands out address 0).
;; apacked: op(A)'s rows in panels of 4 (see packA). packed ≠ 0: the first N − N mod 8 columns of op(B) in panels
;; (see packB); packed = 0: B is row-major (bj = 1). Tiles cover whole panels, from the first multiple of 4 at or after
;; row0; the rows around them and the last N mod 8 columns are plain dot products on a and b.
(func $matmul (export "matmul") (param $a i32) (param $apacked i32) (param $b i32) (param $packed i32) (param $c i32) (param $bias i32) (param $y i32)
    (param $act i32) (param $n i32) (param $k i32) (param $ai i32) (param $ap i32) (param $bp i32) (param $bj i32)
    (param $row0 i32) (param $row1 i32)
  (local $i i32) (local $j i32) (local $t0 i32) (local $i4 i32) (local $n8 i32) (local $jb i32) (local $jend i32) (local $kb i32)
  (local $kend i32) (local $panel i32) (local $bs i32)
  (local.set $n8 (i32.and (local.get $n) (i32.const -8)))
  ;; tiles on rows [t0, i4): whole panels of 4 inside [row0, row1)
  (local.set $t0 (i32.and (i32.add (local.get $row0) (i32.const 3)) (i32.const -4)))
  (local.set $i4 (i32.and (local.get $row1) (i32.const -4)))
  (if (i32.lt_u (local.get $i4) (local.get $t0)) (then (local.set $t0 (local.get $row1)) (local.set $i4 (local.get $row1))))
  ;; Cache blocking: columns in blocks of 256 and terms in blocks of 128, so the block of B in use (128 × 256 floats,
  ;; 128 KiB) stays in the L2 cache while every row of A passes over it. Small products are a single block.
  (block $col_blocks_done
    (loop $col_blocks
      (br_if $col_blocks_done (i32.ge_u (local.get $jb) (local.get $n8)))
      (local.set $jend (select (i32.add (local.get $jb) (i32.const 256)) (local.get $n8)
        (i32.lt_u (i32.add (local.get $jb) (i32.const 256)) (local.get $n8))))
      (local.set $kb (i32.const 0))
      (loop $term_blocks ;; at least once, so that K = 0 still writes C = bias
        (local.set $kend (select (i32.add (local.get $kb) (i32.const 128)) (local.get $k)
          (i32.lt_u (i32.add (local.get $kb) (i32.const 128)) (local.get $k))))
        (local.set $i (local.get $t0))
        (block $rows_done
          (loop $rows
            (br_if $rows_done (i32.ge_u (local.get $i) (local.get $i4)))
            (local.set $j (local.get $jb))
            (block $cols_done
              (loop $cols
                (br_if $cols_done (i32.ge_u (local.get $j) (local.get $jend)))
                ;; where the 8 columns j…j+7 of op(B) start: panel j/8 of the packed B, or column j of a row-major B
                (if (local.get $packed)
                  (then
                    (local.set $panel (i32.add (local.get $packed) (i32.mul (i32.shl (local.get $j) (i32.const 2)) (local.get $k))))
                    (local.set $bs (i32.const 32)))
                  (else
                    (local.set $panel (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
                    (local.set $bs (i32.shl (local.get $bp) (i32.const 2)))))
                (call $tile4x8
                  ;; rows i…i+3's panel of the packed A: i/4 panels of 16·K bytes before it
                  (i32.add (local.get $apacked) (i32.mul (i32.shl (local.get $i) (i32.const 2)) (local.get $k)))
                  (local.get $panel) (local.get $bs) (local.get $c) (local.get $bias) (local.get $y) (local.get $act)
                  (local.get $n) (local.get $kb) (local.get $kend) (i32.eqz (local.get $kb)) (i32.eq (local.get $kend) (local.get $k))
                  (local.get $i) (local.get $j))
                (local.set $j (i32.add (local.get $j) (i32.const 8)))
                (br $cols)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $rows)))
        (local.set $kb (local.get $kend))
        (br_if $term_blocks (i32.lt_u (local.get $kb) (local.get $k))))
      (local.set $jb (local.get $jend))
      (br $col_blocks)))
  ;; the edges: the rows before the first panel, the last N mod 8 columns of the tiled rows, the rows after them
  (call $dots (local.get $a) (local.get $b) (local.get $c) (local.get $bias) (local.get $y) (local.get $act)
    (local.get $n) (local.get $k) (local.get $ai) (local.get $ap) (local.get $bp) (local.get $bj)
    (local.get $row0) (local.get $t0) (i32.const 0) (local.get $n))
  (call $dots (local.get $a) (local.get $b) (local.get $c) (local.get $bias) (local.get $y) (local.get $act)
    (local.get $n) (local.get $k) (local.get $ai) (local.get $ap) (local.get $bp) (local.get $bj)
    (local.get $t0) (local.get $i4) (local.get $n8) (local.get $n))
  (call $dots (local.get $a) (local.get $b) (local.get $c) (local.get $bias) (local.get $y) (local.get $act)
    (local.get $n) (local.get $k) (local.get $ai) (local.get $ap) (local.get $bp) (local.get $bj)
    (local.get $i4) (local.get $row1) (i32.const 0) (local.get $n)))

;; Packs op(B)'s first N − N mod 8 columns into panels of 8: panel q holds op(B)[p, 8q…8q+7] for p = 0…K−1, 32 bytes
;; per p, so a tile reads its B block contiguously. Why: the rows of a large row-major B are 4·N bytes apart, and
;; addresses 4 KiB apart share a set of the L1 cache, so the tile's 128 rows would evict each other; a transposed B has
;; no 8 neighbours along a row at all. O(K·N) copies next to the product's O(M·N·K) work.
(func $packB (export "packB") (param $b i32) (param $dst i32) (param $k i32) (param $n i32) (param $bp i32) (param $bj i32)
  (local $q i32) (local $p i32) (local $jj i32) (local $src i32) (local $n8 i32)
  (local.set $n8 (i32.and (local.get $n) (i32.const -8)))
  (block $panels_done
    (loop $panels
      (br_if $panels_done (i32.ge_u (local.get $q) (local.get $n8)))
      (local.set $p (i32.const 0))
      (block $rows_done
        (loop $rows
          (br_if $rows_done (i32.ge_u (local.get $p) (local.get $k)))
          ;; op(B)[p, q] at b + 4·(p·bp + q·bj)
          (local.set $src (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $p) (local.get $bp)) (i32.mul (local.get $q) (local.get $bj))) (i32.const 2))))
          (if (i32.eq (local.get $bj) (i32.const 1))
            (then ;; 8 neighbours: two vectors
              (v128.store (local.get $dst) (v128.load (local.get $src)))
              (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src))))
            (else
              (local.set $jj (i32.const 0))
              (loop $cols
                (f32.store (i32.add (local.get $dst) (i32.shl (local.get $jj) (i32.const 2)))
                  (f32.load (i32.add (local.get $src) (i32.shl (i32.mul (local.get $jj) (local.get $bj)) (i32.const 2)))))
                (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
                (br_if $cols (i32.lt_u (local.get $jj) (i32.const 8))))))
          (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $rows)))
      (local.set $q (i32.add (local.get $q) (i32.const 8)))
      (br $panels))))
;; Packs the rows [0, m4) of op(A) (m4 a multiple of 4) into panels of 4 rows interleaved: panel q holds
;; op(A)[4q…4q+3, p] side by side for p = 0…K−1, 16 bytes per p, so a tile reads its four A elements with one
;; pointer and constant offsets (fewer instructions per step than four pointers into four rows). A row-major A
;; (ap = 1) goes 4×4 elements at a time: four vector loads, a transpose by shuffles, four vector stores; a transposed
;; one (ai = 1) holds each panel's four elements at p side by side: one vector load and store per p.
(func $packA (export "packA") (param $a i32) (param $dst i32) (param $m4 i32) (param $k i32) (param $ai i32) (param $ap i32)
  (local $i i32) (local $p i32) (local $r i32) (local $k4 i32)
  (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32)
  (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
  (local.set $k4 (select (i32.and (local.get $k) (i32.const -4)) (i32.const 0) (i32.eq (local.get $ap) (i32.const 1))))
  (block $panels_done
    (loop $panels
      (br_if $panels_done (i32.ge_u (local.get $i) (local.get $m4)))
      ;; the four rows' addresses at p = 0 (used by the vector path)
      (local.set $p0 (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $ai)) (i32.const 2))))
      (local.set $p1 (i32.add (local.get $p0) (i32.shl (local.get $ai) (i32.const 2))))
      (local.set $p2 (i32.add (local.get $p1) (i32.shl (local.get $ai) (i32.const 2))))
      (local.set $p3 (i32.add (local.get $p2) (i32.shl (local.get $ai) (i32.const 2))))
      (local.set $p (i32.const 0))
      (block $quads_done
        (loop $quads
          (br_if $quads_done (i32.ge_u (local.get $p) (local.get $k4)))
          ;; rows a, b, c, d at p…p+3 → t0 = a0 b0 a1 b1, t1 = c0 d0 c1 d1, t2 = a2 b2 a3 b3, t3 = c2 d2 c3 d3
          (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (v128.load (local.get $p0)) (v128.load (local.get $p1))))
          (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (v128.load (local.get $p2)) (v128.load (local.get $p3))))
          (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (v128.load (local.get $p0)) (v128.load (local.get $p1))))
          (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (v128.load (local.get $p2)) (v128.load (local.get $p3))))
          ;; → a0 b0 c0 d0, a1 b1 c1 d1, a2 b2 c2 d2, a3 b3 c3 d3
          (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1)))
          (v128.store offset=16 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))
          (v128.store offset=32 (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3)))
          (v128.store offset=48 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3)))
          (local.set $p0 (i32.add (local.get $p0) (i32.const 16)))
          (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
          (local.set $p2 (i32.add (local.get $p2) (i32.const 16)))
          (local.set $p3 (i32.add (local.get $p3) (i32.const 16)))
          (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (br $quads)))
      ;; a transposed A (ai = 1): the panel's four elements at p are adjacent in memory, one vector load each
      (if (i32.eq (local.get $ai) (i32.const 1))
        (then
          (local.set $p0 (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2))))
          (block $cols_done
            (loop $cols
              (br_if $cols_done (i32.ge_u (local.get $p) (local.get $k)))
              (v128.store (local.get $dst) (v128.load (local.get $p0)))
              (local.set $p0 (i32.add (local.get $p0) (i32.shl (local.get $ap) (i32.const 2))))
              (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (br $cols)))))
      ;; the rest of the terms (all of them for a strided A), one element at a time
      (block $terms_done
        (loop $terms
          (br_if $terms_done (i32.ge_u (local.get $p) (local.get $k)))
          (local.set $r (i32.const 0))
          (loop $rows
            ;; op(A)[i + r, p] at a + 4·((i + r)·ai + p·ap)
            (f32.store (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2)))
              (f32.load (i32.add (local.get $a)
                (i32.shl (i32.add (i32.mul (i32.add (local.get $i) (local.get $r)) (local.get $ai)) (i32.mul (local.get $p) (local.get $ap))) (i32.const 2)))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br_if $rows (i32.lt_u (local.get $r) (i32.const 4))))
          (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $terms)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $panels))))
