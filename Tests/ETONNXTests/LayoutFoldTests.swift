import ETCore
import ETNN
@testable import ETONNX
import Foundation
import XCTest

/// The plan-time rewrites of `PlanBuilder` (strided views read in place by MatMul, MatMul output
/// written in a following Transpose's layout, Mul-by-scalar folded into Softmax) and the GELU
/// recognition of `GraphOptimizer`: same outputs as the unfolded plan, and the steps they remove
/// are gone.
final class LayoutFoldTests: XCTestCase {
    func testReshapeStridesOfViews() {
        // Contiguous: any reshape works.
        XCTAssertEqual(ShapeMath.reshapeStrides([4, 6], [6, 1], to: [2, 2, 6]), [12, 6, 1])
        XCTAssertEqual(ShapeMath.reshapeStrides([4, 6], [6, 1], to: [24]), [1])
        // A transposed [320, 128] (strides 1, 128) split along its first dim: (4, 32) → (32, 1).
        XCTAssertEqual(ShapeMath.reshapeStrides([128, 320], [1, 128], to: [4, 32, 320]), [32, 1, 128])
        // Merging across a transposed pair would move data.
        XCTAssertNil(ShapeMath.reshapeStrides([128, 320], [1, 128], to: [40960]))
        // A slice of the last dim (row stride larger than the width) can split rows but not merge them.
        XCTAssertEqual(ShapeMath.reshapeStrides([10, 48], [144, 1], to: [10, 3, 16]), [144, 16, 1])
        XCTAssertNil(ShapeMath.reshapeStrides([10, 48], [144, 1], to: [480]))
        // Size-1 dims anywhere.
        XCTAssertEqual(ShapeMath.reshapeStrides([3, 1, 5], [5, 99, 1], to: [1, 15, 1]), [15, 1, 1])
    }

    func testFoldedPlansMatchUnfoldedOnExports() throws {
        let inputs = ExportTests.inputs()
        for name in ["et-128-fgaf3-bn", "vittrack-opencv-48", "vittrack-d3-c128"] {
            let cfg = try ModelRegistry.configuration(named: name)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("fold-\(getpid())-\(name).onnx").path
            try ModelExporter.write(try RandomWeights.model(cfg, seed: 77, scheme: .probe), to: path)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let model = try ONNXModel(path: path)
            let shapes = ["template": [1, 3, 128, 128], "search": [1, 3, 256, 256]]
            func plan(folded: Bool) throws -> ExecutionPlan {
                let saved = PlanBuilder.foldLayouts
                PlanBuilder.foldLayouts = folded
                defer { PlanBuilder.foldLayouts = saved }
                return try ExecutionPlan(model: model, inputShapes: shapes)
            }
            let folded = try plan(folded: true), plain = try plan(folded: false)
            let a = try folded.run(["template": inputs.template, "search": inputs.search])
            let b = try plain.run(["template": inputs.template, "search": inputs.search])
            for o in ["output1", "output2", "output3"] {
                let err = ExportTests.relativeError(a[o]!, b[o]!)
                XCTAssertLessThan(err, 1e-5, "\(name) \(o): folded vs unfolded plan")
                XCTAssertGreaterThan(b[o]!.data.max()! - b[o]!.data.min()!, 1e-3, "\(name) \(o): flat map, test too weak")
            }
            let ops = folded.steps.map(\.opName)
            let plainOps = plain.steps.map(\.opName)
            // Every attention Transpose and Slice is a view now; what still needs a copy are the
            // token transposes after the patch embedding (read by Add/LayerNorm).
            XCTAssertFalse(ops.contains { $0.hasPrefix("Transpose") || $0.hasPrefix("Slice") }, "\(name): \(ops)")
            XCTAssertGreaterThan(plainOps.filter { $0.hasPrefix("Transpose") }.count, 3 * 2, name)
            XCTAssertLessThanOrEqual(ops.filter { $0 == "StridedCopy" }.count, 3, "\(name): \(ops)")
            // The attention scale is inside the Softmax.
            for (i, op) in ops.enumerated() where op == "Softmax" { XCTAssertFalse(ops[i - 1].hasPrefix("Mul"), name) }
            if cfg.block == .vit {
                // Div → Erf → Add → Mul → Mul became one GELU in the fc1 Gemm's epilogue.
                XCTAssertFalse(ops.contains { $0.lowercased().hasPrefix("erf") }, "\(name): \(ops)")
                XCTAssertEqual(ops.filter { $0 == "Gemm+gelu" }.count, cfg.depth, "\(name): \(ops)")
            }
            print("\(name): \(plain.steps.count) steps unfolded, \(folded.steps.count) folded")
        }
    }

    /// Attention chains built directly: Q·Kᵀ (K transposed by a Transpose view) → ×scale →
    /// Softmax → ·V, output transposed back. The fused step must equal the unfused plan, and when
    /// V's batch does not line up with the scores' (broadcast to 2), the plan falls back to
    /// separate steps with the same result.
    func testFusedAttentionAndItsFallback() throws {
        for (vBatch, fused) in [(1, true), (2, false)] {
            var g = ONNXGraphBuilder(name: "attention")
            let heads = 3, n = 50, m = 70, d = 8, dv = 12
            let q = g.input("q", dims: [heads, n, d]), k = g.input("k", dims: [heads, m, d])
            let v = g.input("v", dims: [vBatch, heads, m, dv])
            let s = g.matMul(q, g.transpose(k, perm: [0, 2, 1]))
            let p = g.softmax(g.mul(s, g.scalar(0.35)), axis: -1)
            let o = g.transpose(g.matMul(p, v), perm: [0, 2, 1, 3])
            g.output(g.relu(o), as: "out", dims: [vBatch, n, heads, dv])
            let model = try ONNXModel(data: try g.model().serialized())
            let shapes = ["q": [heads, n, d], "k": [heads, m, d], "v": [vBatch, heads, m, dv]]
            var rng = SeededGenerator(seed: 11)
            var inputs: [String: Tensor] = [:]
            for (name, shape) in shapes {
                inputs[name] = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 400 })
            }
            func plan(folded: Bool) throws -> ExecutionPlan {
                let saved = PlanBuilder.foldLayouts
                PlanBuilder.foldLayouts = folded
                defer { PlanBuilder.foldLayouts = saved }
                return try ExecutionPlan(model: model, inputShapes: shapes)
            }
            let a = try plan(folded: true), b = try plan(folded: false)
            let ra = try a.run(inputs)["out"]!, rb = try b.run(inputs)["out"]!
            XCTAssertEqual(ra.shape, [vBatch, n, heads, dv])
            XCTAssertLessThan(ExportTests.relativeError(ra, rb), 1e-5, "V batch \(vBatch)")
            XCTAssertGreaterThan(rb.data.max()! - rb.data.min()!, 0.1, "flat output, test too weak")
            let ops = a.steps.map(\.opName)
            XCTAssertEqual(ops.contains { $0.hasPrefix("Attention") }, fused, "\(ops)")
            XCTAssertFalse(ops.contains { $0.hasPrefix("Mul") }, "the scale is folded either way: \(ops)")
        }
    }
}
