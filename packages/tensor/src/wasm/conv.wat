;; conv.wat — im2col and col2im for one image: the windows of x (C, H, W) as the columns of a (C·kH·kW, Ho·Wo) matrix,
;; so that a convolution is the matmul kernel's product W·cols (backend.ts), and the scatter back (the input gradient).
;; cols[(c, p, q), (i, j)] = x[c, i·sh − ph + p, j·sw − pw + q], 0 in the padding (see cpu/conv.ts for the reference).
;; `rowStride`: floats between two rows of cols (Ho·Wo for one image alone).

;; dst[0…n) = 0.
(func $zeros (param $dst i32) (param $n i32)
  (local $end i32)
  (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 2))))
  (block $done
    (loop $vectors
      (br_if $done (i32.gt_s (i32.add (local.get $dst) (i32.const 16)) (local.get $end)))
      (v128.store (local.get $dst) (v128.const i32x4 0 0 0 0))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (br $vectors)))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
      (f32.store (local.get $dst) (f32.const 0))
      (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
      (br $each))))

;; dst[k] = src[k] (gather) or src[k] += dst[k] (scatter, the adjoint) for k < n, a vector at a time.
(func $move (param $dst i32) (param $src i32) (param $n i32) (param $scatter i32)
  (local $end i32)
  (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 2))))
  (block $done
    (loop $vectors
      (br_if $done (i32.gt_s (i32.add (local.get $dst) (i32.const 16)) (local.get $end)))
      (if (local.get $scatter)
        (then (v128.store (local.get $src) (f32x4.add (v128.load (local.get $src)) (v128.load (local.get $dst)))))
        (else (v128.store (local.get $dst) (v128.load (local.get $src)))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (br $vectors)))
  (block $done
    (loop $each
      (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
      (if (local.get $scatter)
        (then (f32.store (local.get $src) (f32.add (f32.load (local.get $src)) (f32.load (local.get $dst)))))
        (else (f32.store (local.get $dst) (f32.load (local.get $src)))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
      (local.set $src (i32.add (local.get $src) (i32.const 4)))
      (br $each))))

;; One pass over every (row of cols, output row i): scatter = 0 fills cols from x (im2col); scatter = 1 adds cols into
;; x (col2im; x must be zeroed first). With stride 1 along W the window's row is one contiguous run of x between two
;; runs of padding; other strides go element by element.
(func $unfold (param $x i32) (param $cols i32) (param $c i32) (param $h i32) (param $w i32) (param $kh i32) (param $kw i32)
    (param $sh i32) (param $sw i32) (param $ph i32) (param $pw i32) (param $ho i32) (param $wo i32) (param $rowStride i32)
    (param $scatter i32)
  (local $ci i32) (local $p i32) (local $q i32) (local $i i32) (local $j i32) (local $r i32) (local $col i32)
  (local $row i32) (local $dst i32) (local $src i32) (local $lo i32) (local $hi i32)
  (local.set $row (local.get $cols)) ;; the first row of cols: (c, p, q) = (0, 0, 0)
  (loop $channels
    (local.set $p (i32.const 0))
    (loop $taps_p
      (local.set $q (i32.const 0))
      (loop $taps_q
        (local.set $i (i32.const 0))
        (loop $out_rows
          (local.set $dst (i32.add (local.get $row) (i32.shl (i32.mul (local.get $i) (local.get $wo)) (i32.const 2))))
          (local.set $r (i32.add (i32.sub (i32.mul (local.get $i) (local.get $sh)) (local.get $ph)) (local.get $p)))
          (if (i32.or (i32.lt_s (local.get $r) (i32.const 0)) (i32.ge_s (local.get $r) (local.get $h)))
            (then (if (i32.eqz (local.get $scatter)) (then (call $zeros (local.get $dst) (local.get $wo)))))
            (else
              ;; x's row r of channel ci
              (local.set $src (i32.add (local.get $x)
                (i32.shl (i32.mul (i32.add (i32.mul (local.get $ci) (local.get $h)) (local.get $r)) (local.get $w)) (i32.const 2))))
              (if (i32.eq (local.get $sw) (i32.const 1))
                (then
                  ;; columns j in [lo, hi) read x[r, j − pw + q] inside the row; the rest is padding
                  (local.set $lo (i32.sub (local.get $pw) (local.get $q)))
                  (if (i32.lt_s (local.get $lo) (i32.const 0)) (then (local.set $lo (i32.const 0))))
                  (if (i32.gt_s (local.get $lo) (local.get $wo)) (then (local.set $lo (local.get $wo))))
                  (local.set $hi (i32.add (i32.sub (local.get $w) (local.get $q)) (local.get $pw)))
                  (if (i32.gt_s (local.get $hi) (local.get $wo)) (then (local.set $hi (local.get $wo))))
                  (if (i32.lt_s (local.get $hi) (local.get $lo)) (then (local.set $hi (local.get $lo))))
                  (if (i32.eqz (local.get $scatter))
                    (then
                      (call $zeros (local.get $dst) (local.get $lo))
                      (call $zeros (i32.add (local.get $dst) (i32.shl (local.get $hi) (i32.const 2))) (i32.sub (local.get $wo) (local.get $hi)))))
                  (call $move (i32.add (local.get $dst) (i32.shl (local.get $lo) (i32.const 2)))
                    (i32.add (local.get $src) (i32.shl (i32.add (i32.sub (local.get $lo) (local.get $pw)) (local.get $q)) (i32.const 2)))
                    (i32.sub (local.get $hi) (local.get $lo)) (local.get $scatter)))
                (else
                  (local.set $j (i32.const 0))
                  (block $cols_done
                    (loop $cols
                      (br_if $cols_done (i32.ge_u (local.get $j) (local.get $wo)))
                      (local.set $col (i32.add (i32.sub (i32.mul (local.get $j) (local.get $sw)) (local.get $pw)) (local.get $q)))
                      (if (i32.and (i32.ge_s (local.get $col) (i32.const 0)) (i32.lt_s (local.get $col) (local.get $w)))
                        (then (call $move (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2)))
                          (i32.add (local.get $src) (i32.shl (local.get $col) (i32.const 2))) (i32.const 1) (local.get $scatter)))
                        (else (if (i32.eqz (local.get $scatter))
                          (then (f32.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2))) (f32.const 0))))))
                      (local.set $j (i32.add (local.get $j) (i32.const 1)))
                      (br $cols)))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $out_rows (i32.lt_u (local.get $i) (local.get $ho))))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $rowStride) (i32.const 2))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br_if $taps_q (i32.lt_u (local.get $q) (local.get $kw))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $taps_p (i32.lt_u (local.get $p) (local.get $kh))))
    (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
    (br_if $channels (i32.lt_u (local.get $ci) (local.get $c)))))

;; cols (C·kH·kW rows of Ho·Wo, rowStride apart) = the windows of x (C, H, W).
(func $im2col (export "im2col") (param $x i32) (param $cols i32) (param $c i32) (param $h i32) (param $w i32) (param $kh i32)
    (param $kw i32) (param $sh i32) (param $sw i32) (param $ph i32) (param $pw i32) (param $ho i32) (param $wo i32) (param $rowStride i32)
  (call $unfold (local.get $x) (local.get $cols) (local.get $c) (local.get $h) (local.get $w) (local.get $kh) (local.get $kw)
    (local.get $sh) (local.get $sw) (local.get $ph) (local.get $pw) (local.get $ho) (local.get $wo) (local.get $rowStride) (i32.const 0)))

;; dx (C, H, W) = col2im(cols): 0, then every column element added to the x position its window read, in im2col's
;; order (float32 sums, the same order every time).
(func $col2im (export "col2im") (param $cols i32) (param $dx i32) (param $c i32) (param $h i32) (param $w i32) (param $kh i32)
    (param $kw i32) (param $sh i32) (param $sw i32) (param $ph i32) (param $pw i32) (param $ho i32) (param $wo i32) (param $rowStride i32)
  (call $zeros (local.get $dx) (i32.mul (i32.mul (local.get $c) (local.get $h)) (local.get $w)))
  (call $unfold (local.get $dx) (local.get $cols) (local.get $c) (local.get $h) (local.get $w) (local.get $kh) (local.get $kw)
    (local.get $sh) (local.get $sw) (local.get $ph) (local.get $pw) (local.get $ho) (local.get $wo) (local.get $rowStride) (i32.const 1)))

;; pad (C, hp, wp) = zeros with x (C, H, W) at row ph, column pw of each plane: windows that start in the top-left
;; border and end within hp × wp then never leave it (im2colPanels: hp = H + 2ph, wp = W + 2pw).
(func $padImage (param $x i32) (param $pad i32) (param $c i32) (param $h i32) (param $w i32) (param $ph i32) (param $pw i32)
    (param $hp i32) (param $wp i32)
  (local $rows i32) (local $r i32) (local $at i32)
  (call $zeros (local.get $pad) (i32.mul (i32.mul (local.get $c) (local.get $hp)) (local.get $wp)))
  (local.set $rows (i32.mul (local.get $c) (local.get $h))) ;; row r of x is row (r / h)·hp + ph + r mod h of pad
  (block $done
    (loop $each_row
      (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $at (i32.add (i32.mul (i32.add (i32.mul (i32.div_u (local.get $r) (local.get $h)) (local.get $hp))
        (i32.add (local.get $ph) (i32.rem_u (local.get $r) (local.get $h)))) (local.get $wp)) (local.get $pw)))
      (call $move (i32.add (local.get $pad) (i32.shl (local.get $at) (i32.const 2)))
        (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $w)) (i32.const 2))) (local.get $w) (i32.const 0))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $each_row))))

;; Byte address in pad (rows wp floats wide) of output position pos's window corner: (i·sh, j·sw) for pos = i·wo + j;
;; positions past the last (p) read the corner of the image (their lanes are masked to 0).
(func $corner (param $pos i32) (param $p i32) (param $wo i32) (param $sh i32) (param $sw i32) (param $wp i32) (param $pad i32) (result i32)
  (if (i32.ge_u (local.get $pos) (local.get $p)) (then (return (local.get $pad))))
  (i32.add (local.get $pad) (i32.shl (i32.add
    (i32.mul (i32.mul (i32.div_u (local.get $pos) (local.get $wo)) (local.get $sh)) (local.get $wp))
    (i32.mul (i32.rem_u (local.get $pos) (local.get $wo)) (local.get $sw))) (i32.const 2))))

;; im2col written in packA's layout: panel t holds, for each k = (ci, p, q) in turn, the 4 floats cols[k, 4t…4t+3]
;; (positions P…p4 − 1 zero). The image is first padded into `pad` (C·(H+2ph)·(W+2pw) floats) so that no tap needs a
;; bounds check; panels are then written one after the other (sequential stores): 4 positions along one row at
;; stride 1 are one vector load per tap, others (row ends, stride 2) four scalar loads.
(func $im2colPanels (export "im2colPanels") (param $x i32) (param $dst i32) (param $c i32) (param $h i32) (param $w i32) (param $kh i32)
    (param $kw i32) (param $sh i32) (param $sw i32) (param $ph i32) (param $pw i32) (param $ho i32) (param $wo i32) (param $p4 i32)
    (param $pad i32)
  (local $wp i32) (local $plane i32) (local $p i32) (local $pos i32) (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32)
  (local $mask v128) (local $run i32) (local $ci i32) (local $pp i32) (local $qq i32) (local $chan i32) (local $row i32) (local $off i32)
  (local $v v128)
  (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $pw) (i32.const 1))))
  (local.set $plane (i32.shl (i32.mul (i32.add (local.get $h) (i32.shl (local.get $ph) (i32.const 1))) (local.get $wp)) (i32.const 2)))
  (local.set $p (i32.mul (local.get $ho) (local.get $wo)))
  (call $padImage (local.get $x) (local.get $pad) (local.get $c) (local.get $h) (local.get $w) (local.get $ph) (local.get $pw)
    (i32.add (local.get $h) (i32.shl (local.get $ph) (i32.const 1))) (local.get $wp))
  (block $done
    (loop $panels
      (br_if $done (i32.ge_u (local.get $pos) (local.get $p4)))
      (local.set $b0 (call $corner (local.get $pos) (local.get $p) (local.get $wo) (local.get $sh) (local.get $sw) (local.get $wp) (local.get $pad)))
      (local.set $b1 (call $corner (i32.add (local.get $pos) (i32.const 1)) (local.get $p) (local.get $wo) (local.get $sh) (local.get $sw) (local.get $wp) (local.get $pad)))
      (local.set $b2 (call $corner (i32.add (local.get $pos) (i32.const 2)) (local.get $p) (local.get $wo) (local.get $sh) (local.get $sw) (local.get $wp) (local.get $pad)))
      (local.set $b3 (call $corner (i32.add (local.get $pos) (i32.const 3)) (local.get $p) (local.get $wo) (local.get $sh) (local.get $sw) (local.get $wp) (local.get $pad)))
      ;; lanes of real positions (pos + l < p) keep their value
      (local.set $mask (i32x4.lt_s (i32x4.add (i32x4.splat (local.get $pos)) (v128.const i32x4 0 1 2 3)) (i32x4.splat (local.get $p))))
      (local.set $run (i32.and (i32.lt_u (i32.add (local.get $pos) (i32.const 3)) (local.get $p))
        (i32.and (i32.eq (local.get $b1) (i32.add (local.get $b0) (i32.const 4)))
          (i32.and (i32.eq (local.get $b2) (i32.add (local.get $b0) (i32.const 8))) (i32.eq (local.get $b3) (i32.add (local.get $b0) (i32.const 12)))))))
      (local.set $chan (i32.const 0))
      (local.set $ci (i32.const 0))
      (loop $channels
        (local.set $row (local.get $chan))
        (local.set $pp (i32.const 0))
        (loop $taps_p
          (local.set $off (local.get $row))
          (local.set $qq (i32.const 0))
          (loop $taps_q
            (if (local.get $run)
              (then (local.set $v (v128.load (i32.add (local.get $b0) (local.get $off)))))
              (else
                (local.set $v (v128.and (local.get $mask)
                  (f32x4.replace_lane 3 (f32x4.replace_lane 2 (f32x4.replace_lane 1
                    (f32x4.splat (f32.load (i32.add (local.get $b0) (local.get $off))))
                    (f32.load (i32.add (local.get $b1) (local.get $off))))
                    (f32.load (i32.add (local.get $b2) (local.get $off))))
                    (f32.load (i32.add (local.get $b3) (local.get $off))))))))
            (v128.store (local.get $dst) (local.get $v))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (local.set $off (i32.add (local.get $off) (i32.const 4)))
            (local.set $qq (i32.add (local.get $qq) (i32.const 1)))
            (br_if $taps_q (i32.lt_u (local.get $qq) (local.get $kw))))
          (local.set $row (i32.add (local.get $row) (i32.shl (local.get $wp) (i32.const 2))))
          (local.set $pp (i32.add (local.get $pp) (i32.const 1)))
          (br_if $taps_p (i32.lt_u (local.get $pp) (local.get $kh))))
        (local.set $chan (i32.add (local.get $chan) (local.get $plane)))
        (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
        (br_if $channels (i32.lt_u (local.get $ci) (local.get $c))))
      (local.set $pos (i32.add (local.get $pos) (i32.const 4)))
      (br $panels))))

;; dst (Co, P) = srcᵀ + bias: src holds the product colsᵀ·Wᵀ as (P4 rows, Co columns), Co a multiple of 4; bias = 0:
;; none. 4×4 blocks are turned in registers (two rounds of shuffles), the last P mod 4 positions one by one.
(func $unpanel (export "unpanel") (param $src i32) (param $dst i32) (param $p i32) (param $co i32) (param $bias i32)
  (local $o i32) (local $pos i32) (local $stride i32) (local $p4 i32) (local $b v128) (local $from i32) (local $to i32)
  (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
  (local $l i32) (local $rowBytes i32)
  (local.set $stride (i32.shl (local.get $co) (i32.const 2)))
  (local.set $rowBytes (i32.shl (local.get $p) (i32.const 2)))
  (local.set $p4 (i32.and (local.get $p) (i32.const -4)))
  (block $done
    (loop $channels
      (br_if $done (i32.ge_u (local.get $o) (local.get $co)))
      (local.set $b (v128.const i32x4 0 0 0 0))
      (if (local.get $bias) (then (local.set $b (v128.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))))
      (local.set $from (i32.add (local.get $src) (i32.shl (local.get $o) (i32.const 2))))
      (local.set $to (i32.add (local.get $dst) (i32.mul (local.get $o) (local.get $rowBytes))))
      (local.set $pos (i32.const 0))
      (block $blocks_done
        (loop $blocks
          (br_if $blocks_done (i32.ge_u (local.get $pos) (local.get $p4)))
          ;; rows pos…pos+3 of src, columns o…o+3: r_l = (a_l0, a_l1, a_l2, a_l3)
          (local.set $r0 (v128.load (local.get $from)))
          (local.set $r1 (v128.load (i32.add (local.get $from) (local.get $stride))))
          (local.set $r2 (v128.load (i32.add (local.get $from) (i32.shl (local.get $stride) (i32.const 1)))))
          (local.set $r3 (v128.load (i32.add (local.get $from) (i32.mul (local.get $stride) (i32.const 3)))))
          (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))   ;; a00 a10 a01 a11
          (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1))) ;; a02 a12 a03 a13
          (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))   ;; a20 a30 a21 a31
          (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3))) ;; a22 a32 a23 a33
          (v128.store (local.get $to) (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2))
            (f32x4.splat (f32x4.extract_lane 0 (local.get $b)))))
          (v128.store (i32.add (local.get $to) (local.get $rowBytes)) (f32x4.add (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2))
            (f32x4.splat (f32x4.extract_lane 1 (local.get $b)))))
          (v128.store (i32.add (local.get $to) (i32.shl (local.get $rowBytes) (i32.const 1))) (f32x4.add (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3))
            (f32x4.splat (f32x4.extract_lane 2 (local.get $b)))))
          (v128.store (i32.add (local.get $to) (i32.mul (local.get $rowBytes) (i32.const 3))) (f32x4.add (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3))
            (f32x4.splat (f32x4.extract_lane 3 (local.get $b)))))
          (local.set $from (i32.add (local.get $from) (i32.shl (local.get $stride) (i32.const 2))))
          (local.set $to (i32.add (local.get $to) (i32.const 16)))
          (local.set $pos (i32.add (local.get $pos) (i32.const 4)))
          (br $blocks)))
      ;; the last P mod 4 positions: src row pos, columns o…o+3, to dst rows o…o+3
      (block $tail_done
        (loop $tail
          (br_if $tail_done (i32.ge_u (local.get $pos) (local.get $p)))
          (local.set $r0 (f32x4.add (v128.load (local.get $from)) (local.get $b)))
          (f32.store (local.get $to) (f32x4.extract_lane 0 (local.get $r0)))
          (f32.store (i32.add (local.get $to) (local.get $rowBytes)) (f32x4.extract_lane 1 (local.get $r0)))
          (f32.store (i32.add (local.get $to) (i32.shl (local.get $rowBytes) (i32.const 1))) (f32x4.extract_lane 2 (local.get $r0)))
          (f32.store (i32.add (local.get $to) (i32.mul (local.get $rowBytes) (i32.const 3))) (f32x4.extract_lane 3 (local.get $r0)))
          (local.set $from (i32.add (local.get $from) (local.get $stride)))
          (local.set $to (i32.add (local.get $to) (i32.const 4)))
          (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
          (br $tail)))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (br $channels))))
;; Images [start, end) of a convolution's forward pass on one thread (the threads split the batch): for each, its
;; windows into packed panels, the product colsᵀ·Wᵀ by the matmul kernel, and the turn to (Co, P) with the bias.
;; wPacked: Wᵀ packed by packB; Co a multiple of 8. The part's scratch (P4·K + P4·Co + C·(H+2ph)·(W+2pw) floats:
;; panels, product, padded image) starts at scratch + part × its size.
(func (export "convForward") (param $x i32) (param $wPacked i32) (param $w i32) (param $bias i32) (param $y i32) (param $scratch i32)
    (param $c i32) (param $h i32) (param $wd i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $ph i32)
    (param $pw i32) (param $ho i32) (param $wo i32) (param $co i32) (param $start i32) (param $end i32) (param $part i32)
  (local $k i32) (local $p i32) (local $p4 i32) (local $panels i32) (local $yt i32) (local $img i32) (local $padded i32)
  (local.set $k (i32.mul (i32.mul (local.get $c) (local.get $kh)) (local.get $kw)))
  (local.set $p (i32.mul (local.get $ho) (local.get $wo)))
  (local.set $p4 (i32.and (i32.add (local.get $p) (i32.const 3)) (i32.const -4)))
  (local.set $padded (i32.mul (local.get $c) (i32.mul (i32.add (local.get $h) (i32.shl (local.get $ph) (i32.const 1)))
    (i32.add (local.get $wd) (i32.shl (local.get $pw) (i32.const 1))))))
  (local.set $panels (i32.add (local.get $scratch) (i32.mul (local.get $part)
    (i32.shl (i32.add (i32.mul (local.get $p4) (i32.add (local.get $k) (local.get $co))) (local.get $padded)) (i32.const 2)))))
  (local.set $yt (i32.add (local.get $panels) (i32.shl (i32.mul (local.get $p4) (local.get $k)) (i32.const 2))))
  (local.set $img (local.get $start))
  (block $done
    (loop $images
      (br_if $done (i32.ge_u (local.get $img) (local.get $end)))
      (call $im2colPanels (i32.add (local.get $x) (i32.shl (i32.mul (local.get $img) (i32.mul (i32.mul (local.get $c) (local.get $h)) (local.get $wd))) (i32.const 2)))
        (local.get $panels) (local.get $c) (local.get $h) (local.get $wd) (local.get $kh) (local.get $kw) (local.get $sh) (local.get $sw)
        (local.get $ph) (local.get $pw) (local.get $ho) (local.get $wo) (local.get $p4)
        (i32.add (local.get $yt) (i32.shl (i32.mul (local.get $p4) (local.get $co)) (i32.const 2))))
      (call $matmul (i32.const 0) (local.get $panels) (local.get $w) (local.get $wPacked) (local.get $yt) (i32.const 0) (i32.const 0) (i32.const 0)
        (local.get $co) (local.get $k) (i32.const 0) (i32.const 0) (i32.const 1) (local.get $k) (i32.const 0) (local.get $p4))
      (call $unpanel (local.get $yt) (i32.add (local.get $y) (i32.shl (i32.mul (local.get $img) (i32.mul (local.get $co) (local.get $p))) (i32.const 2)))
        (local.get $p) (local.get $co) (local.get $bias))
      (local.set $img (i32.add (local.get $img) (i32.const 1)))
      (br $images))))

;; Chunks [start, end) of a convolution's weight gradient on one thread: chunk q sums, over its images n (`chunk` of
;; them, fewer in the last), cols[n]·dy[n]ᵀ (K × Co) into sums + q·K·Co floats, image by image in order. Fixed chunks,
;; whatever the threads: the same sums on one thread or many. Scratch per part: K·P + K·P + 2·P·Co + K·Co floats.
(func (export "convWeightGrad") (param $x i32) (param $dy i32) (param $sums i32) (param $scratch i32)
    (param $c i32) (param $h i32) (param $wd i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $ph i32)
    (param $pw i32) (param $ho i32) (param $wo i32) (param $co i32) (param $chunk i32) (param $n i32)
    (param $start i32) (param $end i32) (param $part i32)
  (local $k i32) (local $p i32) (local $cols i32) (local $colsPacked i32) (local $dyPacked i32) (local $one i32)
  (local $q i32) (local $img i32) (local $last i32) (local $sum i32) (local $dyImg i32)
  (local.set $k (i32.mul (i32.mul (local.get $c) (local.get $kh)) (local.get $kw)))
  (local.set $p (i32.mul (local.get $ho) (local.get $wo)))
  (local.set $cols (i32.add (local.get $scratch) (i32.mul (local.get $part)
    (i32.shl (i32.add (i32.mul (i32.shl (local.get $k) (i32.const 1)) (local.get $p))
      (i32.add (i32.shl (i32.mul (local.get $p) (local.get $co)) (i32.const 1)) (i32.mul (local.get $k) (local.get $co)))) (i32.const 2)))))
  (local.set $colsPacked (i32.add (local.get $cols) (i32.shl (i32.mul (local.get $k) (local.get $p)) (i32.const 2))))
  (local.set $dyPacked (i32.add (local.get $colsPacked) (i32.shl (i32.mul (local.get $k) (local.get $p)) (i32.const 2))))
  (local.set $one (i32.add (local.get $dyPacked) (i32.shl (i32.mul (i32.shl (local.get $p) (i32.const 1)) (local.get $co)) (i32.const 2))))
  (local.set $q (local.get $start))
  (block $chunks_done
    (loop $chunks
      (br_if $chunks_done (i32.ge_u (local.get $q) (local.get $end)))
      (local.set $sum (i32.add (local.get $sums) (i32.shl (i32.mul (local.get $q) (i32.mul (local.get $k) (local.get $co))) (i32.const 2))))
      (local.set $img (i32.mul (local.get $q) (local.get $chunk)))
      (local.set $last (i32.add (local.get $img) (local.get $chunk)))
      (if (i32.gt_u (local.get $last) (local.get $n)) (then (local.set $last (local.get $n))))
      (block $images_done
        (loop $images
          (br_if $images_done (i32.ge_u (local.get $img) (local.get $last)))
          (call $im2col (i32.add (local.get $x) (i32.shl (i32.mul (local.get $img) (i32.mul (i32.mul (local.get $c) (local.get $h)) (local.get $wd))) (i32.const 2)))
            (local.get $cols) (local.get $c) (local.get $h) (local.get $wd) (local.get $kh) (local.get $kw) (local.get $sh) (local.get $sw)
            (local.get $ph) (local.get $pw) (local.get $ho) (local.get $wo) (local.get $p))
          (call $packA (local.get $cols) (local.get $colsPacked) (i32.and (local.get $k) (i32.const -4)) (local.get $p) (local.get $p) (i32.const 1))
          ;; dy[n]ᵀ as (P, Co): element (j, o) at dy[n][o·P + j]
          (local.set $dyImg (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $img) (i32.mul (local.get $co) (local.get $p))) (i32.const 2))))
          (call $packB (local.get $dyImg) (local.get $dyPacked) (local.get $p) (local.get $co) (i32.const 1) (local.get $p))
          (call $matmul (local.get $cols) (local.get $colsPacked) (local.get $dyImg) (local.get $dyPacked)
            (select (local.get $sum) (local.get $one) (i32.eq (local.get $img) (i32.mul (local.get $q) (local.get $chunk))))
            (i32.const 0) (i32.const 0) (i32.const 0) (local.get $co) (local.get $p) (local.get $p) (i32.const 1) (i32.const 1) (local.get $p)
            (i32.const 0) (local.get $k))
          (if (i32.ne (local.get $img) (i32.mul (local.get $q) (local.get $chunk)))
            (then (call $move (local.get $one) (local.get $sum) (i32.mul (local.get $k) (local.get $co)) (i32.const 1)))) ;; sum += one
          (local.set $img (i32.add (local.get $img) (i32.const 1)))
          (br $images)))
      (local.set $q (i32.add (local.get $q) (i32.const 1)))
      (br $chunks))))

;; Images [start, end) of a convolution's input gradient by columns (the strides other than 1): for each, dcols =
;; Wᵀ·dy[n] (K × P; wtPacked: Wᵀ packed by packA, K rounded down to 4) and dx[n] = col2im(dcols). Images are
;; independent: the same bits on any number of threads. Scratch per part: K·P + Co·P floats.
(func (export "convInputGrad") (param $w i32) (param $wtPacked i32) (param $dy i32) (param $dx i32) (param $scratch i32)
    (param $c i32) (param $h i32) (param $wd i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $ph i32)
    (param $pw i32) (param $ho i32) (param $wo i32) (param $co i32) (param $start i32) (param $end i32) (param $part i32)
  (local $k i32) (local $p i32) (local $dcols i32) (local $packed i32) (local $img i32) (local $dyImg i32)
  (local.set $k (i32.mul (i32.mul (local.get $c) (local.get $kh)) (local.get $kw)))
  (local.set $p (i32.mul (local.get $ho) (local.get $wo)))
  (local.set $dcols (i32.add (local.get $scratch) (i32.mul (local.get $part)
    (i32.shl (i32.mul (local.get $p) (i32.add (local.get $k) (local.get $co))) (i32.const 2)))))
  (local.set $packed (i32.add (local.get $dcols) (i32.shl (i32.mul (local.get $k) (local.get $p)) (i32.const 2))))
  (local.set $img (local.get $start))
  (block $done
    (loop $images
      (br_if $done (i32.ge_u (local.get $img) (local.get $end)))
      (local.set $dyImg (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $img) (i32.mul (local.get $co) (local.get $p))) (i32.const 2))))
      (call $packB (local.get $dyImg) (local.get $packed) (local.get $co) (local.get $p) (local.get $p) (i32.const 1))
      (call $matmul (local.get $w) (local.get $wtPacked) (local.get $dyImg) (local.get $packed) (local.get $dcols)
        (i32.const 0) (i32.const 0) (i32.const 0) (local.get $p) (local.get $co) (i32.const 1) (local.get $k) (local.get $p) (i32.const 1)
        (i32.const 0) (local.get $k))
      (call $col2im (local.get $dcols) (i32.add (local.get $dx) (i32.shl (i32.mul (local.get $img) (i32.mul (i32.mul (local.get $c) (local.get $h)) (local.get $wd))) (i32.const 2)))
        (local.get $c) (local.get $h) (local.get $wd) (local.get $kh) (local.get $kw) (local.get $sh) (local.get $sw) (local.get $ph) (local.get $pw)
        (local.get $ho) (local.get $wo) (local.get $p))
      (local.set $img (i32.add (local.get $img) (i32.const 1)))
      (br $images))))
