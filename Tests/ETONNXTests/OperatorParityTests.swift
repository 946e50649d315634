import ETCore
@testable import ETONNX
import XCTest

/// Every op (and the real NanoTrack graphs) against ONNX Runtime on the same inputs.
final class OperatorParityTests: XCTestCase {
    /// Max abs error allowed relative to the largest reference magnitude (the 1e-4 bound).
    let relativeTolerance: Float = 1e-4

    func check(_ c: ReferenceCase, file: StaticString = #filePath, line: UInt = #line) throws -> Float {
        let model = try ONNXModel(path: c.model)
        let plan = try ExecutionPlan(model: model, inputShapes: Dictionary(uniqueKeysWithValues: c.inputs.map { ($0.name, $0.shape) }))
        var feeds: [String: Tensor] = [:]
        for i in c.inputs { feeds[i.name] = Tensor(shape: i.shape, data: try Fixtures.readFloats(i.file)) }
        let out = try plan.run(feeds)
        var worst: Float = 0
        for o in c.outputs {
            let expected = try Fixtures.readFloats(o.file)
            guard let got = out[o.name] else { XCTFail("\(c.name): no output \(o.name)", file: file, line: line); continue }
            XCTAssertEqual(got.shape.reduce(1, *), o.shape.reduce(1, *), "\(c.name): \(o.name) shape \(got.shape) vs \(o.shape)", file: file, line: line)
            guard got.data.count == expected.count else { continue }
            let scale = max(expected.map { abs($0) }.max() ?? 0, 1e-6)
            var maxDiff: Float = 0
            for (a, b) in zip(got.data, expected) {
                if a.isNaN != b.isNaN { maxDiff = .infinity; break }
                if !a.isNaN { maxDiff = max(maxDiff, abs(a - b)) }
            }
            worst = max(worst, maxDiff / scale)
            XCTAssertLessThanOrEqual(maxDiff / scale, relativeTolerance,
                                     "\(c.name) output \(o.name): max abs diff \(maxDiff), max |ref| \(scale)", file: file, line: line)
        }
        return worst
    }

    func testEveryOpAgainstONNXRuntime() throws {
        let cases = try Fixtures.onnxCases.get().filter { !$0.name.hasPrefix("nanotrack") }
        XCTAssertGreaterThan(cases.count, 60)
        var report: [String] = []
        for c in cases {
            do { report.append(String(format: "%@ %.2e", c.name, try check(c))) } catch { XCTFail("\(c.name): \(error)") }
        }
        print("op parity (max abs error / max |ref|):\n  " + report.joined(separator: "\n  "))
    }

    func testNanoTrackGraphsAgainstONNXRuntime() throws {
        let cases = try Fixtures.onnxCases.get().filter { $0.name.hasPrefix("nanotrack") }
        XCTAssertEqual(cases.count, 9, "expected backbone 255/127 and head for v1, v2, v3 (is ../shared/models present?)")
        for c in cases {
            do {
                let e = try check(c)
                print(String(format: "%@: max relative error %.2e", c.name, e))
            } catch { XCTFail("\(c.name): \(error)") }
        }
    }
}

/// Static inputs: the steps that depend only on them run once per change, with the same results.
final class StaticInputTests: XCTestCase {
    func testStaticInputBranchIsCachedAndRecomputedOnChange() throws {
        for v in ["nanotrack-v2", "nanotrack-v3"] {
            let head = try ONNXModel(path: Fixtures.model(v, "head.onnx"))
            let c = v == "nanotrack-v3" ? 96 : 48
            let shapes = ["input1": [1, c, 8, 8], "input2": [1, c, 16, 16]]
            let cached = try ExecutionPlan(model: head, inputShapes: shapes, staticInputs: ["input1"])
            let plain = try ExecutionPlan(model: head, inputShapes: shapes)
            XCTAssertGreaterThan(cached.isStaticStep.filter { $0 }.count, 0, "\(v): some head steps depend only on input1")
            var seed: UInt64 = 1
            func fill(_ b: UnsafeMutableBufferPointer<Float>) {
                for i in 0..<b.count { seed = seed &* 6364136223846793005 &+ 1442695040888963407; b[i] = Float(Int64(bitPattern: seed >> 11) % 2000) / 1000 }
            }
            for template in 0..<2 {
                fill(cached.inputBuffer("input1"))
                plain.inputBuffer("input1").baseAddress!.update(from: cached.inputBuffer("input1").baseAddress!, count: c * 64)
                for _ in 0..<3 {
                    fill(cached.inputBuffer("input2"))
                    plain.inputBuffer("input2").baseAddress!.update(from: cached.inputBuffer("input2").baseAddress!, count: c * 256)
                    cached.run(); plain.run()
                    for o in head.outputNames {
                        XCTAssertEqual(Array(cached.outputBuffer(o)), Array(plain.outputBuffer(o)), "\(v) template \(template): \(o) differs")
                    }
                }
            }
        }
    }
}
