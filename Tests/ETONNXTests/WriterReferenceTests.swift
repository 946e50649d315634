import ETCore
@testable import ETONNX
import Foundation
import XCTest

/// Files written by `ONNXGraphBuilder`, checked three ways: our reader and `ExecutionPlan` run
/// them, and scripts/reference/writer_check.py runs `onnx.checker` (full check), the canonical
/// re-encoding comparison, ONNX Runtime and, for Conv/Gemm/LayerNorm graphs, OpenCV's
/// `cv2.dnn.readNetFromONNX`. All outputs must agree within 1e-4 of the largest magnitude.
final class WriterReferenceTests: XCTestCase {
    let relativeTolerance: Float = 1e-4

    struct Written {
        var c: WriterCase
        var path: String
        var feeds: [String: Tensor]
    }

    /// Writes every case and runs the Python checker once for the whole class.
    static let prepared: Result<(cases: [Written], results: [String: Any]), Error> = {
        do {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("etrack-writer-\(getpid())")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            var r = TestRandom(7)
            var written: [Written] = []
            var manifest: [[String: Any]] = []
            for c in WriterCases.all() {
                let path = dir.appendingPathComponent("\(c.name).onnx").path
                try c.model.write(to: path)
                var feeds: [String: Tensor] = [:]
                var ins: [[String: Any]] = []
                for (k, i) in c.inputs.enumerated() {
                    let t = r.tensor(i.shape, scale: 2)
                    feeds[i.name] = t
                    let f = dir.appendingPathComponent("\(c.name)_in\(k).f32").path
                    try t.data.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: f)) }
                    ins.append(["name": i.name, "shape": i.shape, "file": f])
                }
                manifest.append(["name": c.name, "model": path, "opencv": c.opencv, "inputs": ins])
                written.append(Written(c: c, path: path, feeds: feeds))
            }
            let manifestPath = dir.appendingPathComponent("manifest.json").path
            try JSONSerialization.data(withJSONObject: ["cases": manifest]).write(to: URL(fileURLWithPath: manifestPath))
            let script = Fixtures.repoRoot.appendingPathComponent("scripts/reference/writer_check.py").path
            let out = dir.appendingPathComponent("out").path
            let (status, log) = try Fixtures.run(["python3", script, manifestPath, out])
            guard status == 0 else { throw NSError(domain: "writer_check.py failed: \(log)", code: Int(status)) }
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/result.json"))) as! [String: Any]
            return .success((written, json))
        } catch {
            return .failure(error)
        }
    }()

    /// Max abs difference over max |reference|, reporting a failure with the numbers.
    func compare(_ got: Tensor, _ want: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, "\(what): \(got.shape) vs \(want.shape)", file: file, line: line)
        guard got.count == want.count else { return }
        let scale = max(want.data.map { abs($0) }.max() ?? 0, 1e-6)
        var diff: Float = 0
        for (a, b) in zip(got.data, want.data) { diff = max(diff, a.isNaN || b.isNaN ? .infinity : abs(a - b)) }
        XCTAssertLessThanOrEqual(diff / scale, relativeTolerance, "\(what): max abs diff \(diff), max |ref| \(scale)", file: file, line: line)
    }

    func outputs(_ entry: Any?, _ what: String) throws -> [String: Tensor] {
        guard let d = entry as? [String: Any] else { throw ONNXError("\(what): no result") }
        if let e = d["error"] as? String { throw ONNXError("\(what) failed: \(e)") }
        var r: [String: Tensor] = [:]
        for o in d["outputs"] as! [[String: Any]] {
            var shape = (o["shape"] as! [NSNumber]).map(\.intValue)
            let data = try Fixtures.readFloats(o["file"] as! String)
            if shape.reduce(1, *) != data.count { shape = [data.count] }
            r[o["name"] as! String] = Tensor(shape: shape, data: data)
        }
        return r
    }

    func testCheckerCanonicalEncodingAndHeader() throws {
        let (cases, results) = try Self.prepared.get()
        for w in cases {
            let r = results[w.c.name] as? [String: Any] ?? [:]
            XCTAssertEqual(r["checker"] as? String, "ok", "\(w.c.name): onnx.checker")
            XCTAssertEqual(r["canonical"] as? Bool, true, "\(w.c.name): onnx re-serialises the file differently")
            XCTAssertEqual((r["ir_version"] as? NSNumber)?.int64Value, w.c.model.irVersion, w.c.name)
            XCTAssertEqual((r["opsets"] as? [String: NSNumber])?["ai.onnx"]?.intValue, w.c.model.opset, w.c.name)
            XCTAssertEqual(r["producer"] as? String, "EfficientTrack", w.c.name)
            let meta = Dictionary(uniqueKeysWithValues: w.c.model.metadata.map { ($0.key, $0.value) })
            XCTAssertEqual(r["metadata"] as? [String: String], meta, w.c.name)
            XCTAssertEqual(r["value_info"] as? [String], w.c.model.graph.valueInfo.map(\.name), w.c.name)
        }
        XCTAssertEqual(cases.first { $0.c.name == "gelu_opset20" }?.c.model.irVersion, 9)
    }

    func testOurEngineMatchesONNXRuntime() throws {
        let (cases, results) = try Self.prepared.get()
        var ran = 0
        for w in cases {
            let ort = try outputs((results[w.c.name] as? [String: Any])?["ort"], "\(w.c.name): ONNX Runtime")
            XCTAssertEqual(Set(ort.keys), Set(w.c.model.graph.outputs.map(\.name)), w.c.name)
            if let reference = w.c.expected {
                for (name, t) in reference(w.feeds) { compare(ort[name]!, t, "\(w.c.name) \(name): ONNX Runtime vs Swift reference") }
            }
            guard w.c.ourEngine else { continue }
            let model = try ONNXModel(path: w.path)
            XCTAssertTrue(model.producer.hasPrefix("EfficientTrack"), "\(w.c.name): producer \(model.producer)")
            XCTAssertEqual(model.opset, w.c.model.opset, w.c.name)
            let plan = try ExecutionPlan(model: model, inputShapes: w.feeds.mapValues(\.shape))
            let ours = try plan.run(w.feeds)
            for (name, want) in ort {
                guard let got = ours[name] else { XCTFail("\(w.c.name): our engine has no output \(name)"); continue }
                compare(got, want, "\(w.c.name) \(name): ours vs ONNX Runtime")
            }
            ran += 1
        }
        XCTAssertGreaterThanOrEqual(ran, 7)
    }

    func testOpenCVLoadsConvGemmAndLayerNormGraphs() throws {
        let (cases, results) = try Self.prepared.get()
        let checked = cases.filter(\.c.opencv)
        XCTAssertEqual(Set(checked.map(\.c.name)), ["conv_stem", "gemm_chain", "ln_mlp"])
        for w in checked {
            let r = results[w.c.name] as? [String: Any]
            let ort = try outputs(r?["ort"], "\(w.c.name): ONNX Runtime")
            let cv = try outputs(r?["opencv"], "\(w.c.name): cv2.dnn")
            for (name, want) in ort {
                guard let got = cv[name] else { XCTFail("\(w.c.name): OpenCV has no output \(name)"); continue }
                compare(got, want, "\(w.c.name) \(name): OpenCV vs ONNX Runtime")
            }
        }
    }

    func testMetadataReadBackByOurReader() throws {
        let (cases, _) = try Self.prepared.get()
        let w = try XCTUnwrap(cases.first { $0.c.name == "metadata" })
        let model = try ONNXModel(path: w.path)
        XCTAssertEqual(model.metadata["etrack.config"], "et-128-fgaf3-bn")
        XCTAssertEqual(model.metadata["note"], "ünïcode ✓")
        XCTAssertEqual(model.producer, "EfficientTrack 0.3")
        XCTAssertEqual(model.inputs.first?.shape, [.symbol("N"), .value(4)])
        XCTAssertEqual(model.outputs.first?.shape, [.symbol("N"), .value(3)])
    }
}
