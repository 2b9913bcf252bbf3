;; winograd.wat — 3×3 convolutions at stride 1 by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2016, "Fast
;; Algorithms for Convolutional Neural Networks", §4): a 2×2 output tile is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for its 4×4 input
;; patch d, 16 multiplies per channel pair where the direct sum takes 36; summed over the input channels, the ⊙ is 16
;; matmuls (tiles × C)·(C × Co), one per position ξ = 4r + s of the transformed patch, on the matmul kernel.
;;   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]   Aᵀ = [1 1 1 0; 0 1 −1 −1]
;; The filters' transform U = G g Gᵀ is made once per call (wasm/conv.ts); here, per image: the padded image, its
;; transform V, the 16 products M = V·U, and the output transform. Tiles run row by row over a grid tw4 tiles wide
;; (tw rounded up to 4, so that 4 neighbouring tiles fill a panel of the matmul kernel; the extra ones are dropped).

;; V[ξ] = (Bᵀ d B)[ξ] for every tile's patch d of the padded image (C, hp, wp), four neighbouring tiles at a time,
;; one per lane: their patch columns 2j…2j+3 are the even and odd lanes of two pairs of vector loads, so that every
;; step below is a vector operation. The four tiles of group g, channel c go to v + g·groupStride + c·chanStride, V[ξ]
;; `slab` bytes after V[0]: the forward pass writes packA's panels (T × C: groupStride 16·C, chanStride 16), the
;; weight gradient rows (C × tiles: groupStride 16, chanStride 4 × the row's length).
(func $winogradInput (param $pad i32) (param $v i32) (param $c i32) (param $hp i32) (param $wp i32) (param $th i32) (param $tw4 i32)
    (param $groupStride i32) (param $chanStride i32) (param $slab i32)
  (local $ti i32) (local $tj i32) (local $ci i32) (local $row i32) (local $out i32) (local $plane i32) (local $group i32)
  (local $a v128) (local $b v128) (local $a2 v128) (local $b2 v128)
  (local $w00 v128) (local $w01 v128) (local $w02 v128) (local $w03 v128) (local $w10 v128) (local $w11 v128) (local $w12 v128) (local $w13 v128) (local $w20 v128) (local $w21 v128) (local $w22 v128) (local $w23 v128) (local $w30 v128) (local $w31 v128) (local $w32 v128) (local $w33 v128)
  (local.set $plane (i32.shl (i32.mul (local.get $hp) (local.get $wp)) (i32.const 2)))
  (local.set $group (local.get $v))
  (loop $tile_rows
    (local.set $tj (i32.const 0))
    (loop $tile_groups
      (local.set $ci (i32.const 0))
      (local.set $out (local.get $group))
      (local.set $row (i32.add (local.get $pad) (i32.shl (i32.add (i32.mul (i32.shl (local.get $ti) (i32.const 1)) (local.get $wp))
        (i32.shl (local.get $tj) (i32.const 1))) (i32.const 2))))
      (loop $channels
        ;; patch row 0: lanes j hold columns 2j, 2j+1, 2j+2, 2j+3 of tile j → the row's transform d·B
        (local.set $a (v128.load (local.get $row)))
        (local.set $b (v128.load offset=16 (local.get $row)))
        (local.set $a2 (v128.load offset=8 (local.get $row)))
        (local.set $b2 (v128.load offset=24 (local.get $row)))
        (local.set $w00 (f32x4.sub (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b)) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a2) (local.get $b2))))
        (local.set $w01 (f32x4.add (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b)) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a2) (local.get $b2))))
        (local.set $w02 (f32x4.sub (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a2) (local.get $b2)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b))))
        (local.set $w03 (f32x4.sub (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a2) (local.get $b2))))
        ;; patch row 1: lanes j hold columns 2j, 2j+1, 2j+2, 2j+3 of tile j → the row's transform d·B
        (local.set $a (v128.load (i32.add (local.get $row) (i32.mul (local.get $wp) (i32.const 4)))))
        (local.set $b (v128.load offset=16 (i32.add (local.get $row) (i32.mul (local.get $wp) (i32.const 4)))))
        (local.set $a2 (v128.load offset=8 (i32.add (local.get $row) (i32.mul (local.get $wp) (i32.const 4)))))
        (local.set $b2 (v128.load offset=24 (i32.add (local.get $row) (i32.mul (local.get $wp) (i32.const 4)))))
        (local.set $w10 (f32x4.sub (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b)) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a2) (local.get $b2))))
        (local.set $w11 (f32x4.add (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b)) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a2) (local.get $b2))))
        (local.set $w12 (f32x4.sub (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a2) (local.get $b2)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b))))
        (local.set $w13 (f32x4.sub (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a2) (local.get $b2))))
        ;; patch row 2: lanes j hold columns 2j, 2j+1, 2j+2, 2j+3 of tile j → the row's transform d·B
        (local.set $a (v128.load (i32.add (local.get $row) (i32.mul (local.get $wp) (i32.const 8)))))
        (local.set $b (v128.load offset=16 (i32.add (local.get $row) (i32.mul (local.get $wp) (i32.const 8)))))
        (local.set $a2 (v128.load offset=8 (i32.add (local.get $row) (i32.mul (local.get $wp) (i32.const 8)))))
        (local.set $b2 (v128.load offset=24 (i32.add (local.get $row) (i32.mul (local.get $wp) (i32.const 8)))))
        (local.set $w20 (f32x4.sub (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b)) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a2) (local.get $b2))))
        (local.set $w21 (f32x4.add (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b)) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a2) (local.get $b2))))
        (local.set $w22 (f32x4.sub (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a2) (local.get $b2)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b))))
        (local.set $w23 (f32x4.sub (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a2) (local.get $b2))))
        ;; patch row 3: lanes j hold columns 2j, 2j+1, 2j+2, 2j+3 of tile j → the row's transform d·B
        (local.set $a (v128.load (i32.add (local.get $row) (i32.mul (local.get $wp) (i32.const 12)))))
        (local.set $b (v128.load offset=16 (i32.add (local.get $row) (i32.mul (local.get $wp) (i32.const 12)))))
        (local.set $a2 (v128.load offset=8 (i32.add (local.get $row) (i32.mul (local.get $wp) (i32.const 12)))))
        (local.set $b2 (v128.load offset=24 (i32.add (local.get $row) (i32.mul (local.get $wp) (i32.const 12)))))
        (local.set $w30 (f32x4.sub (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b)) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a2) (local.get $b2))))
        (local.set $w31 (f32x4.add (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b)) (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a2) (local.get $b2))))
        (local.set $w32 (f32x4.sub (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a2) (local.get $b2)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b))))
        (local.set $w33 (f32x4.sub (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b)) (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a2) (local.get $b2))))
        ;; the rows combined (Bᵀ·): V[4r + s] for the four tiles, at slot ci of their panel
        (v128.store (local.get $out) (f32x4.sub (local.get $w00) (local.get $w20)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 4))) (f32x4.add (local.get $w10) (local.get $w20)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 8))) (f32x4.sub (local.get $w20) (local.get $w10)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 12))) (f32x4.sub (local.get $w10) (local.get $w30)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 1))) (f32x4.sub (local.get $w01) (local.get $w21)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 5))) (f32x4.add (local.get $w11) (local.get $w21)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 9))) (f32x4.sub (local.get $w21) (local.get $w11)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 13))) (f32x4.sub (local.get $w11) (local.get $w31)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 2))) (f32x4.sub (local.get $w02) (local.get $w22)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 6))) (f32x4.add (local.get $w12) (local.get $w22)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 10))) (f32x4.sub (local.get $w22) (local.get $w12)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 14))) (f32x4.sub (local.get $w12) (local.get $w32)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 3))) (f32x4.sub (local.get $w03) (local.get $w23)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 7))) (f32x4.add (local.get $w13) (local.get $w23)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 11))) (f32x4.sub (local.get $w23) (local.get $w13)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 15))) (f32x4.sub (local.get $w13) (local.get $w33)))
        (local.set $out (i32.add (local.get $out) (local.get $chanStride)))
        (local.set $row (i32.add (local.get $row) (local.get $plane)))
        (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
        (br_if $channels (i32.lt_u (local.get $ci) (local.get $c))))
      (local.set $group (i32.add (local.get $group) (local.get $groupStride)))
      (local.set $tj (i32.add (local.get $tj) (i32.const 4)))
      (br_if $tile_groups (i32.lt_u (local.get $tj) (local.get $tw4))))
    (local.set $ti (i32.add (local.get $ti) (i32.const 1)))
    (br_if $tile_rows (i32.lt_u (local.get $ti) (local.get $th)))))

;; Lane l of v to y[at + l·plane bytes] (four output channels of one pixel).
(func $put4 (param $at i32) (param $plane i32) (param $v v128)
  (f32.store (local.get $at) (f32x4.extract_lane 0 (local.get $v)))
  (f32.store (i32.add (local.get $at) (local.get $plane)) (f32x4.extract_lane 1 (local.get $v)))
  (f32.store (i32.add (local.get $at) (i32.shl (local.get $plane) (i32.const 1))) (f32x4.extract_lane 2 (local.get $v)))
  (f32.store (i32.add (local.get $at) (i32.mul (local.get $plane) (i32.const 3))) (f32x4.extract_lane 3 (local.get $v))))

;; y (Co, ho, wo) = Aᵀ M A (+ bias) per tile, M[ξ] (T × Co) the products: four output channels at a time, one per lane
;; (M's rows hold a tile's channels side by side); pixels past ho or wo (the last tiles of odd sizes) are not written.
(func $winogradOutput (param $m i32) (param $y i32) (param $bias i32) (param $co i32) (param $ho i32) (param $wo i32)
    (param $th i32) (param $tw i32) (param $tw4 i32)
  (local $ti i32) (local $tj i32) (local $o i32) (local $at i32) (local $slab i32) (local $plane i32) (local $px i32)
  (local $bv v128) (local $down i32) (local $right i32)
  (local $t00 v128) (local $t01 v128) (local $t02 v128) (local $t03 v128) (local $t10 v128) (local $t11 v128) (local $t12 v128) (local $t13 v128)
  (local.set $slab (i32.shl (i32.mul (i32.mul (local.get $th) (local.get $tw4)) (local.get $co)) (i32.const 2))) ;; bytes per M[ξ]
  (local.set $plane (i32.shl (i32.mul (local.get $ho) (local.get $wo)) (i32.const 2)))
  (loop $tile_rows
    (local.set $down (i32.lt_u (i32.add (i32.shl (local.get $ti) (i32.const 1)) (i32.const 1)) (local.get $ho)))
    (local.set $tj (i32.const 0))
    (loop $tiles
      (local.set $right (i32.lt_u (i32.add (i32.shl (local.get $tj) (i32.const 1)) (i32.const 1)) (local.get $wo)))
      ;; the tile's row of M, and its top-left pixel in channel 0 of y
      (local.set $at (i32.add (local.get $m) (i32.shl (i32.mul (i32.add (i32.mul (local.get $ti) (local.get $tw4)) (local.get $tj)) (local.get $co)) (i32.const 2))))
      (local.set $px (i32.add (local.get $y) (i32.shl (i32.add (i32.mul (i32.shl (local.get $ti) (i32.const 1)) (local.get $wo))
        (i32.shl (local.get $tj) (i32.const 1))) (i32.const 2))))
      (local.set $o (i32.const 0))
      (loop $channels
        (local.set $bv (v128.const i32x4 0 0 0 0))
        (if (local.get $bias) (then (local.set $bv (v128.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))))
        ;; Aᵀ·M: t0 = rows 0 + 1 + 2, t1 = rows 1 − 2 − 3 (column s of each)
        (local.set $t00 (f32x4.add (f32x4.add (v128.load (local.get $at)) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 4))))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 8))))))
        (local.set $t10 (f32x4.sub (f32x4.sub (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 4)))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 8))))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 12))))))
        (local.set $t01 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 1)))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 5))))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 9))))))
        (local.set $t11 (f32x4.sub (f32x4.sub (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 5)))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 9))))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 13))))))
        (local.set $t02 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 2)))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 6))))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 10))))))
        (local.set $t12 (f32x4.sub (f32x4.sub (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 6)))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 10))))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 14))))))
        (local.set $t03 (f32x4.add (f32x4.add (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 3)))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 7))))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 11))))))
        (local.set $t13 (f32x4.sub (f32x4.sub (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 7)))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 11))))) (v128.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.const 15))))))
        ;; ·A: pixel (a, 0) = t_a0 + t_a1 + t_a2, pixel (a, 1) = t_a1 − t_a2 − t_a3
        (call $put4 (local.get $px) (local.get $plane) (f32x4.add (f32x4.add (f32x4.add (local.get $t00) (local.get $t01)) (local.get $t02)) (local.get $bv)))
        (if (local.get $right) (then (call $put4 (i32.add (local.get $px) (i32.const 4)) (local.get $plane) (f32x4.add (f32x4.sub (f32x4.sub (local.get $t01) (local.get $t02)) (local.get $t03)) (local.get $bv)))))
        (if (local.get $down) (then
          (call $put4 (i32.add (local.get $px) (i32.shl (local.get $wo) (i32.const 2))) (local.get $plane) (f32x4.add (f32x4.add (f32x4.add (local.get $t10) (local.get $t11)) (local.get $t12)) (local.get $bv)))
          (if (local.get $right) (then (call $put4 (i32.add (i32.add (local.get $px) (i32.shl (local.get $wo) (i32.const 2))) (i32.const 4)) (local.get $plane) (f32x4.add (f32x4.sub (f32x4.sub (local.get $t11) (local.get $t12)) (local.get $t13)) (local.get $bv)))))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (local.set $px (i32.add (local.get $px) (i32.shl (local.get $plane) (i32.const 2))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (br_if $channels (i32.lt_u (local.get $o) (local.get $co))))
      (local.set $tj (i32.add (local.get $tj) (i32.const 1)))
      (br_if $tiles (i32.lt_u (local.get $tj) (local.get $tw))))
    (local.set $ti (i32.add (local.get $ti) (i32.const 1)))
    (br_if $tile_rows (i32.lt_u (local.get $ti) (local.get $th)))))

;; Images [start, end) of a 3×3, stride-1 convolution (padding ph, pw; Co a multiple of 8) on one thread: for each,
;; the padded image, V, the 16 products M[ξ] = V[ξ]·U[ξ] (uPacked: the 16 C × Co matrices U[ξ], each packed by
;; packB), and y = Aᵀ M A + bias. Scratch per part: 16·T·C + 16·T·Co + C·hp·wp floats (T = th·tw4 tiles).
(func (export "convWinograd") (param $x i32) (param $uPacked i32) (param $bias i32) (param $y i32) (param $scratch i32)
    (param $c i32) (param $h i32) (param $w i32) (param $ph i32) (param $pw i32) (param $ho i32) (param $wo i32) (param $co i32)
    (param $start i32) (param $end i32) (param $part i32)
  (local $th i32) (local $tw i32) (local $tw4 i32) (local $t i32) (local $hp i32) (local $wp i32) (local $v i32) (local $m i32)
  (local $pad i32) (local $img i32) (local $xi i32)
  (local.set $th (i32.shr_u (i32.add (local.get $ho) (i32.const 1)) (i32.const 1)))
  (local.set $tw (i32.shr_u (i32.add (local.get $wo) (i32.const 1)) (i32.const 1)))
  (local.set $tw4 (i32.and (i32.add (local.get $tw) (i32.const 3)) (i32.const -4)))
  (local.set $t (i32.mul (local.get $th) (local.get $tw4)))
  (local.set $hp (i32.add (i32.shl (local.get $th) (i32.const 1)) (i32.const 2)))
  (local.set $wp (i32.add (i32.shl (local.get $tw4) (i32.const 1)) (i32.const 2)))
  (local.set $v (i32.add (local.get $scratch) (i32.mul (local.get $part) (i32.shl (i32.add
    (i32.shl (i32.mul (local.get $t) (i32.add (local.get $c) (local.get $co))) (i32.const 4))
    (i32.mul (local.get $c) (i32.mul (local.get $hp) (local.get $wp)))) (i32.const 2)))))
  (local.set $m (i32.add (local.get $v) (i32.shl (i32.mul (local.get $t) (local.get $c)) (i32.const 6))))
  (local.set $pad (i32.add (local.get $m) (i32.shl (i32.mul (local.get $t) (local.get $co)) (i32.const 6))))
  (local.set $img (local.get $start))
  (block $done
    (loop $images
      (br_if $done (i32.ge_u (local.get $img) (local.get $end)))
      (call $padImage (i32.add (local.get $x) (i32.shl (i32.mul (local.get $img) (i32.mul (i32.mul (local.get $c) (local.get $h)) (local.get $w))) (i32.const 2)))
        (local.get $pad) (local.get $c) (local.get $h) (local.get $w) (local.get $ph) (local.get $pw) (local.get $hp) (local.get $wp))
      (call $winogradInput (local.get $pad) (local.get $v) (local.get $c) (local.get $hp) (local.get $wp) (local.get $th) (local.get $tw4)
        (i32.shl (local.get $c) (i32.const 4)) (i32.const 16) (i32.shl (i32.mul (local.get $t) (local.get $c)) (i32.const 2)))
      (local.set $xi (i32.const 0))
      (loop $products ;; M[ξ] (T × Co) = V[ξ]·U[ξ], every row in whole panels, every column in packed panels of 8
        (call $matmul (i32.const 0) (i32.add (local.get $v) (i32.shl (i32.mul (local.get $xi) (i32.mul (local.get $t) (local.get $c))) (i32.const 2)))
          (i32.const 0) (i32.add (local.get $uPacked) (i32.shl (i32.mul (local.get $xi) (i32.mul (local.get $c) (local.get $co))) (i32.const 2)))
          (i32.add (local.get $m) (i32.shl (i32.mul (local.get $xi) (i32.mul (local.get $t) (local.get $co))) (i32.const 2)))
          (i32.const 0) (i32.const 0) (i32.const 0) (local.get $co) (local.get $c) (i32.const 0) (i32.const 0) (local.get $co) (i32.const 1)
          (i32.const 0) (local.get $t))
        (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
        (br_if $products (i32.lt_u (local.get $xi) (i32.const 16))))
      (call $winogradOutput (local.get $m) (i32.add (local.get $y) (i32.shl (i32.mul (local.get $img) (i32.mul (local.get $co) (i32.mul (local.get $ho) (local.get $wo)))) (i32.const 2)))
        (local.get $bias) (local.get $co) (local.get $ho) (local.get $wo) (local.get $th) (local.get $tw) (local.get $tw4))
      (local.set $img (i32.add (local.get $img) (i32.const 1)))
      (br $images))))

;; Q[ξ] = (A dY Aᵀ)[ξ] for every 2×2 tile dY of the output gradient, padded with zeros to (Co, hp = 2·th, wp = 2·tw4):
;; the gradient of the forward's A-side, A = [1 0; 1 1; 1 −1; 0 −1]. Four tiles per lane group as in winogradInput;
;; the four tiles of group g, channel o go to q + g·16 + o·chanStride, Q[ξ] `slab` bytes after Q[0] (rows: Co × tiles).
(func $winogradOutputGrad (param $dy i32) (param $q i32) (param $co i32) (param $hp i32) (param $wp i32) (param $th i32) (param $tw4 i32)
    (param $chanStride i32) (param $slab i32)
  (local $ti i32) (local $tj i32) (local $o i32) (local $row i32) (local $out i32) (local $plane i32) (local $group i32)
  (local $a v128) (local $b v128) (local $y00 v128) (local $y01 v128) (local $y10 v128) (local $y11 v128)
  (local.set $plane (i32.shl (i32.mul (local.get $hp) (local.get $wp)) (i32.const 2)))
  (local.set $group (local.get $q))
  (loop $tile_rows
    (local.set $tj (i32.const 0))
    (loop $tile_groups
      (local.set $o (i32.const 0))
      (local.set $out (local.get $group))
      (local.set $row (i32.add (local.get $dy) (i32.shl (i32.add (i32.mul (i32.shl (local.get $ti) (i32.const 1)) (local.get $wp))
        (i32.shl (local.get $tj) (i32.const 1))) (i32.const 2))))
      (loop $channels
        ;; dY row 0 of the four tiles: columns 2j (even lanes) and 2j+1 (odd)
        (local.set $a (v128.load (local.get $row)))
        (local.set $b (v128.load offset=16 (local.get $row)))
        (local.set $y00 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b)))
        (local.set $y01 (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b)))
        ;; dY row 1 of the four tiles: columns 2j (even lanes) and 2j+1 (odd)
        (local.set $a (v128.load (i32.add (local.get $row) (i32.shl (local.get $wp) (i32.const 2)))))
        (local.set $b (v128.load offset=16 (i32.add (local.get $row) (i32.shl (local.get $wp) (i32.const 2)))))
        (local.set $y10 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b)))
        (local.set $y11 (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b)))
        ;; Q = A dY Aᵀ: rows c₀, c₀ + c₁, c₀ − c₁, −c₁ of the columns c_a = (y_a0, y_a0 + y_a1, y_a0 − y_a1, −y_a1)
        (v128.store (local.get $out) (local.get $y00))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 1))) (f32x4.add (local.get $y00) (local.get $y01)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 2))) (f32x4.sub (local.get $y00) (local.get $y01)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 3))) (f32x4.neg (local.get $y01)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 4))) (f32x4.add (local.get $y00) (local.get $y10)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 5))) (f32x4.add (f32x4.add (local.get $y00) (local.get $y01)) (f32x4.add (local.get $y10) (local.get $y11))))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 6))) (f32x4.add (f32x4.sub (local.get $y00) (local.get $y01)) (f32x4.sub (local.get $y10) (local.get $y11))))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 7))) (f32x4.add (f32x4.neg (local.get $y01)) (f32x4.neg (local.get $y11))))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 8))) (f32x4.sub (local.get $y00) (local.get $y10)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 9))) (f32x4.sub (f32x4.add (local.get $y00) (local.get $y01)) (f32x4.add (local.get $y10) (local.get $y11))))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 10))) (f32x4.sub (f32x4.sub (local.get $y00) (local.get $y01)) (f32x4.sub (local.get $y10) (local.get $y11))))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 11))) (f32x4.sub (f32x4.neg (local.get $y01)) (f32x4.neg (local.get $y11))))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 12))) (f32x4.neg (local.get $y10)))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 13))) (f32x4.neg (f32x4.add (local.get $y10) (local.get $y11))))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 14))) (f32x4.neg (f32x4.sub (local.get $y10) (local.get $y11))))
        (v128.store (i32.add (local.get $out) (i32.mul (local.get $slab) (i32.const 15))) (f32x4.neg (f32x4.neg (local.get $y11))))
        (local.set $out (i32.add (local.get $out) (local.get $chanStride)))
        (local.set $row (i32.add (local.get $row) (local.get $plane)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br_if $channels (i32.lt_u (local.get $o) (local.get $co))))
      (local.set $group (i32.add (local.get $group) (i32.const 16)))
      (local.set $tj (i32.add (local.get $tj) (i32.const 4)))
      (br_if $tile_groups (i32.lt_u (local.get $tj) (local.get $tw4))))
    (local.set $ti (i32.add (local.get $ti) (i32.const 1)))
    (br_if $tile_rows (i32.lt_u (local.get $ti) (local.get $th)))))

;; Chunks [start, end) of a 3×3 stride-1 convolution's weight gradient by Winograd (the forward's adjoint): dU[ξ] =
;; Σ over the chunk's tiles of V[ξ]ᵀ·Q[ξ], i.e. S[ξ] (C × Co) = Vrows[ξ] (C × tiles)·Q[ξ] (tiles × Co), the tiles of
;; the chunk's images side by side as one long sum; dW = Gᵀ S G is taken in wasm/conv.ts. Chunk q (`chunk` images, fewer
;; in the last) writes sums + 16·q·C·Co floats. Fixed chunks: the same sums on any number of threads.
;; Scratch per part: 16·C·L + 16·Co·L + C·L + Co·L + max(C, Co)·hp·wp floats, L = chunk·T.
(func (export "convWinogradWeightGrad") (param $x i32) (param $dy i32) (param $sums i32) (param $scratch i32)
    (param $c i32) (param $h i32) (param $w i32) (param $ph i32) (param $pw i32) (param $ho i32) (param $wo i32) (param $co i32)
    (param $chunk i32) (param $n i32) (param $start i32) (param $end i32) (param $part i32)
  (local $th i32) (local $tw4 i32) (local $t i32) (local $hp i32) (local $wp i32) (local $len i32) (local $v i32) (local $qm i32)
  (local $apacked i32) (local $bpacked i32) (local $pad i32) (local $k i32) (local $img i32) (local $last i32) (local $j i32)
  (local $cols i32) (local $xi i32) (local $size i32)
  (local.set $th (i32.shr_u (i32.add (local.get $ho) (i32.const 1)) (i32.const 1)))
  (local.set $tw4 (i32.and (i32.add (i32.shr_u (i32.add (local.get $wo) (i32.const 1)) (i32.const 1)) (i32.const 3)) (i32.const -4)))
  (local.set $t (i32.mul (local.get $th) (local.get $tw4)))
  (local.set $hp (i32.add (i32.shl (local.get $th) (i32.const 1)) (i32.const 2)))
  (local.set $wp (i32.add (i32.shl (local.get $tw4) (i32.const 1)) (i32.const 2)))
  (local.set $len (i32.mul (local.get $chunk) (local.get $t)))
  (local.set $size (i32.add (i32.mul (i32.mul (local.get $len) (i32.add (local.get $c) (local.get $co))) (i32.const 17))
    (i32.mul (select (local.get $c) (local.get $co) (i32.gt_u (local.get $c) (local.get $co))) (i32.mul (local.get $hp) (local.get $wp)))))
  (local.set $v (i32.add (local.get $scratch) (i32.shl (i32.mul (local.get $part) (local.get $size)) (i32.const 2))))
  (local.set $qm (i32.add (local.get $v) (i32.shl (i32.mul (local.get $len) (local.get $c)) (i32.const 6))))
  (local.set $apacked (i32.add (local.get $qm) (i32.shl (i32.mul (local.get $len) (local.get $co)) (i32.const 6))))
  (local.set $bpacked (i32.add (local.get $apacked) (i32.shl (i32.mul (local.get $len) (local.get $c)) (i32.const 2))))
  (local.set $pad (i32.add (local.get $bpacked) (i32.shl (i32.mul (local.get $len) (local.get $co)) (i32.const 2))))
  (local.set $k (local.get $start))
  (block $chunks_done
    (loop $chunks
      (br_if $chunks_done (i32.ge_u (local.get $k) (local.get $end)))
      (local.set $img (i32.mul (local.get $k) (local.get $chunk)))
      (local.set $last (i32.add (local.get $img) (local.get $chunk)))
      (if (i32.gt_u (local.get $last) (local.get $n)) (then (local.set $last (local.get $n))))
      (local.set $cols (i32.mul (i32.sub (local.get $last) (local.get $img)) (local.get $t))) ;; this chunk's tiles: the sum's length
      (local.set $j (i32.const 0))
      (block $images_done
        (loop $images
          (br_if $images_done (i32.ge_u (local.get $img) (local.get $last)))
          ;; x's tiles → V rows (C × cols), columns j·T…; dy's tiles → Q rows (Co × cols)
          (call $padImage (i32.add (local.get $x) (i32.shl (i32.mul (local.get $img) (i32.mul (i32.mul (local.get $c) (local.get $h)) (local.get $w))) (i32.const 2)))
            (local.get $pad) (local.get $c) (local.get $h) (local.get $w) (local.get $ph) (local.get $pw) (local.get $hp) (local.get $wp))
          (call $winogradInput (local.get $pad) (i32.add (local.get $v) (i32.shl (i32.mul (local.get $j) (local.get $t)) (i32.const 2)))
            (local.get $c) (local.get $hp) (local.get $wp) (local.get $th) (local.get $tw4)
            (i32.const 16) (i32.shl (local.get $cols) (i32.const 2)) (i32.shl (i32.mul (local.get $cols) (local.get $c)) (i32.const 2)))
          (call $padImage (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $img) (i32.mul (i32.mul (local.get $co) (local.get $ho)) (local.get $wo))) (i32.const 2)))
            (local.get $pad) (local.get $co) (local.get $ho) (local.get $wo) (i32.const 0) (i32.const 0) (i32.shl (local.get $th) (i32.const 1)) (i32.shl (local.get $tw4) (i32.const 1)))
          (call $winogradOutputGrad (local.get $pad) (i32.add (local.get $qm) (i32.shl (i32.mul (local.get $j) (local.get $t)) (i32.const 2)))
            (local.get $co) (i32.shl (local.get $th) (i32.const 1)) (i32.shl (local.get $tw4) (i32.const 1)) (local.get $th) (local.get $tw4)
            (i32.shl (local.get $cols) (i32.const 2)) (i32.shl (i32.mul (local.get $cols) (local.get $co)) (i32.const 2)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (local.set $img (i32.add (local.get $img) (i32.const 1)))
          (br $images)))
      (local.set $xi (i32.const 0))
      (loop $products ;; S[ξ] (C × Co) = V[ξ] (C × cols)·Q[ξ]ᵀ, Q[ξ] held as Co × cols
        (call $packA (i32.add (local.get $v) (i32.shl (i32.mul (local.get $xi) (i32.mul (local.get $cols) (local.get $c))) (i32.const 2)))
          (local.get $apacked) (i32.and (local.get $c) (i32.const -4)) (local.get $cols) (local.get $cols) (i32.const 1))
        (call $packB (i32.add (local.get $qm) (i32.shl (i32.mul (local.get $xi) (i32.mul (local.get $cols) (local.get $co))) (i32.const 2)))
          (local.get $bpacked) (local.get $cols) (local.get $co) (i32.const 1) (local.get $cols))
        (call $matmul (i32.add (local.get $v) (i32.shl (i32.mul (local.get $xi) (i32.mul (local.get $cols) (local.get $c))) (i32.const 2)))
          (local.get $apacked)
          (i32.add (local.get $qm) (i32.shl (i32.mul (local.get $xi) (i32.mul (local.get $cols) (local.get $co))) (i32.const 2)))
          (local.get $bpacked)
          (i32.add (local.get $sums) (i32.shl (i32.mul (i32.add (i32.shl (local.get $k) (i32.const 4)) (local.get $xi)) (i32.mul (local.get $c) (local.get $co))) (i32.const 2)))
          (i32.const 0) (i32.const 0) (i32.const 0) (local.get $co) (local.get $cols) (local.get $cols) (i32.const 1) (i32.const 1) (local.get $cols)
          (i32.const 0) (local.get $c))
        (local.set $xi (i32.add (local.get $xi) (i32.const 1)))
        (br_if $products (i32.lt_u (local.get $xi) (i32.const 16))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $chunks))))

;; Output channels [start, end) of the filters' transform U[ξ][c, o] = (G g Gᵀ)[ξ] for g = w[o, c] (3×3), written as
;; the 16 matrices U[ξ] (C × Co, row-major), in float64 and rounded once. G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
(func (export "winogradFilters") (param $w i32) (param $u i32) (param $c i32) (param $co i32) (param $start i32) (param $end i32) (param $part i32)
  (local $o i32) (local $ci i32) (local $g i32) (local $at i32) (local $slab i32) (local $s i32) (local $r i32)
  (local $g0 f64) (local $g1 f64) (local $g2 f64) (local $t0 f64) (local $t1 f64) (local $t2 f64)
  (local.set $slab (i32.shl (i32.mul (local.get $c) (local.get $co)) (i32.const 2)))
  (local.set $o (local.get $start))
  (block $done
    (loop $outputs
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (local.set $ci (i32.const 0))
      (loop $inputs
        (local.set $g (i32.add (local.get $w) (i32.mul (i32.add (i32.mul (local.get $o) (local.get $c)) (local.get $ci)) (i32.const 36))))
        (local.set $at (i32.add (local.get $u) (i32.shl (i32.add (i32.mul (local.get $ci) (local.get $co)) (local.get $o)) (i32.const 2))))
        ;; row r of G·g, then (G·g)·Gᵀ's row r: t0, (t0 + t1 + t2)/2, (t0 − t1 + t2)/2, t2
        (local.set $r (i32.const 0))
        (loop $rows
          (local.set $s (i32.const 0))
          ;; column s of g: g0, g1, g2 → (G·g)[r, s]
          (loop $columns
            (local.set $g0 (f64.promote_f32 (f32.load (i32.add (local.get $g) (i32.shl (local.get $s) (i32.const 2))))))
            (local.set $g1 (f64.promote_f32 (f32.load offset=12 (i32.add (local.get $g) (i32.shl (local.get $s) (i32.const 2))))))
            (local.set $g2 (f64.promote_f32 (f32.load offset=24 (i32.add (local.get $g) (i32.shl (local.get $s) (i32.const 2))))))
            (local.set $t2 (local.get $t1)) (local.set $t1 (local.get $t0)) ;; shift: after s = 2, t0 t1 t2 hold columns 2 1 0
            (local.set $t0
              (if (result f64) (i32.eqz (local.get $r)) (then (local.get $g0))
                (else (if (result f64) (i32.eq (local.get $r) (i32.const 1))
                  (then (f64.div (f64.add (f64.add (local.get $g0) (local.get $g1)) (local.get $g2)) (f64.const 2)))
                  (else (if (result f64) (i32.eq (local.get $r) (i32.const 2))
                    (then (f64.div (f64.add (f64.sub (local.get $g0) (local.get $g1)) (local.get $g2)) (f64.const 2)))
                    (else (local.get $g2))))))))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (br_if $columns (i32.lt_u (local.get $s) (i32.const 3))))
          ;; now t2 = (G·g)[r, 0], t1 = [r, 1], t0 = [r, 2]
          (f32.store (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.shl (local.get $r) (i32.const 2)))) (f32.demote_f64 (local.get $t2)))
          (f32.store (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.add (i32.shl (local.get $r) (i32.const 2)) (i32.const 1))))
            (f32.demote_f64 (f64.div (f64.add (f64.add (local.get $t2) (local.get $t1)) (local.get $t0)) (f64.const 2))))
          (f32.store (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.add (i32.shl (local.get $r) (i32.const 2)) (i32.const 2))))
            (f32.demote_f64 (f64.div (f64.add (f64.sub (local.get $t2) (local.get $t1)) (local.get $t0)) (f64.const 2))))
          (f32.store (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.add (i32.shl (local.get $r) (i32.const 2)) (i32.const 3))))
            (f32.demote_f64 (local.get $t0)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br_if $rows (i32.lt_u (local.get $r) (i32.const 4))))
        (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
        (br_if $inputs (i32.lt_u (local.get $ci) (local.get $c))))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $outputs))))

;; Output channels [start, end) of dw[o, c] = Gᵀ dU[·][c, o] G (dU: the 16 summed C × Co matrices), in float64 and
;; rounded once. Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]: a row (u0, u1, u2, u3) ↦ (u0 + (u1 + u2)/2, (u1 − u2)/2, (u1 + u2)/2 + u3).
(func (export "winogradFilterGrads") (param $du i32) (param $dw i32) (param $c i32) (param $co i32) (param $start i32) (param $end i32) (param $part i32)
  (local $o i32) (local $ci i32) (local $at i32) (local $slab i32) (local $r i32) (local $s i32) (local $out i32)
  (local $u0 f64) (local $u1 f64) (local $u2 f64) (local $u3 f64)
  (local $a0 f64) (local $a1 f64) (local $a2 f64) (local $a3 f64) (local $b0 f64) (local $b1 f64) (local $b2 f64) (local $b3 f64)
  (local $c0 f64) (local $c1 f64) (local $c2 f64) (local $c3 f64)
  (local.set $slab (i32.shl (i32.mul (local.get $c) (local.get $co)) (i32.const 2)))
  (local.set $o (local.get $start))
  (block $done
    (loop $outputs
      (br_if $done (i32.ge_u (local.get $o) (local.get $end)))
      (local.set $ci (i32.const 0))
      (loop $inputs
        (local.set $at (i32.add (local.get $du) (i32.shl (i32.add (i32.mul (local.get $ci) (local.get $co)) (local.get $o)) (i32.const 2))))
        ;; Gᵀ·dU: for each column s, rows a (0), b (1), c (2) of the 3 × 4 product
        (local.set $s (i32.const 0))
        (loop $columns
          (local.set $u0 (f64.promote_f32 (f32.load (i32.add (local.get $at) (i32.mul (local.get $slab) (local.get $s))))))
          (local.set $u1 (f64.promote_f32 (f32.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.add (local.get $s) (i32.const 4)))))))
          (local.set $u2 (f64.promote_f32 (f32.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.add (local.get $s) (i32.const 8)))))))
          (local.set $u3 (f64.promote_f32 (f32.load (i32.add (local.get $at) (i32.mul (local.get $slab) (i32.add (local.get $s) (i32.const 12)))))))
          (local.set $a3 (local.get $a2)) (local.set $a2 (local.get $a1)) (local.set $a1 (local.get $a0))
          (local.set $b3 (local.get $b2)) (local.set $b2 (local.get $b1)) (local.set $b1 (local.get $b0))
          (local.set $c3 (local.get $c2)) (local.set $c2 (local.get $c1)) (local.set $c1 (local.get $c0))
          (local.set $a0 (f64.add (local.get $u0) (f64.div (f64.add (local.get $u1) (local.get $u2)) (f64.const 2))))
          (local.set $b0 (f64.div (f64.sub (local.get $u1) (local.get $u2)) (f64.const 2)))
          (local.set $c0 (f64.add (f64.div (f64.add (local.get $u1) (local.get $u2)) (f64.const 2)) (local.get $u3)))
          (local.set $s (i32.add (local.get $s) (i32.const 1)))
          (br_if $columns (i32.lt_u (local.get $s) (i32.const 4))))
        ;; now a3 … a0 hold row a's columns 0 … 3 (likewise b, c); ·G: (x0 + (x1 + x2)/2, (x1 − x2)/2, (x1 + x2)/2 + x3)
        (local.set $out (i32.add (local.get $dw) (i32.mul (i32.add (i32.mul (local.get $o) (local.get $c)) (local.get $ci)) (i32.const 36))))
        (f32.store (local.get $out) (f32.demote_f64 (f64.add (local.get $a3) (f64.div (f64.add (local.get $a2) (local.get $a1)) (f64.const 2)))))
        (f32.store offset=4 (local.get $out) (f32.demote_f64 (f64.div (f64.sub (local.get $a2) (local.get $a1)) (f64.const 2))))
        (f32.store offset=8 (local.get $out) (f32.demote_f64 (f64.add (f64.div (f64.add (local.get $a2) (local.get $a1)) (f64.const 2)) (local.get $a0))))
        (f32.store offset=12 (local.get $out) (f32.demote_f64 (f64.add (local.get $b3) (f64.div (f64.add (local.get $b2) (local.get $b1)) (f64.const 2)))))
        (f32.store offset=16 (local.get $out) (f32.demote_f64 (f64.div (f64.sub (local.get $b2) (local.get $b1)) (f64.const 2))))
        (f32.store offset=20 (local.get $out) (f32.demote_f64 (f64.add (f64.div (f64.add (local.get $b2) (local.get $b1)) (f64.const 2)) (local.get $b0))))
        (f32.store offset=24 (local.get $out) (f32.demote_f64 (f64.add (local.get $c3) (f64.div (f64.add (local.get $c2) (local.get $c1)) (f64.const 2)))))
        (f32.store offset=28 (local.get $out) (f32.demote_f64 (f64.div (f64.sub (local.get $c2) (local.get $c1)) (f64.const 2))))
        (f32.store offset=32 (local.get $out) (f32.demote_f64 (f64.add (f64.div (f64.add (local.get $c2) (local.get $c1)) (f64.const 2)) (local.get $c0))))
        (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
        (br_if $inputs (i32.lt_u (local.get $ci) (local.get $c))))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $outputs))))
