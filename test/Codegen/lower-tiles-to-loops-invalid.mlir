// RUN: flashc-opt %s --split-input-file --attn-lower-tiles-to-loops --verify-diagnostics

// score_grad needs the custom score's derivative; floor has no rule.
func.func @floor(%g: memref<2x4xf32>, %c: index) {
  attn.tile.score_grad %g, %g at [%c, %c, %c, %c] shift %c heads %c score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %one = arith.constant 1.0 : f32
    %t = arith.addf %s, %one : f32
    // expected-error @below {{cannot differentiate 'math.floor' in the custom score region: it has a float result that depends on the score and no derivative rule}}
    %f = math.floor %t : f32
    attn.yield %f : f32
  } : memref<2x4xf32>, memref<2x4xf32>
  return
}

// -----

// An op without a rule is fine where it does not depend on the score.
func.func @floor_of_index(%g: memref<2x4xf32>, %c: index) {
  attn.tile.score_grad %g, %g at [%c, %c, %c, %c] shift %c heads %c score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %ii = arith.index_cast %i : index to i64
    %if = arith.sitofp %ii : i64 to f32
    %f = math.floor %if : f32
    %y = arith.mulf %s, %f : f32
    attn.yield %y : f32
  } : memref<2x4xf32>, memref<2x4xf32>
  return
}

// -----

// Bit tricks on the score have no derivative either.
func.func @bitcast(%g: memref<2x4xf32>, %c: index) {
  attn.tile.score_grad %g, %g at [%c, %c, %c, %c] shift %c heads %c score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %bits = arith.bitcast %s : f32 to i32
    // expected-error @below {{cannot differentiate 'arith.bitcast'}}
    %back = arith.bitcast %bits : i32 to f32
    attn.yield %back : f32
  } : memref<2x4xf32>, memref<2x4xf32>
  return
}
