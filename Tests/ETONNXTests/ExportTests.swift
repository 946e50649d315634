import ETCore
import ETNN
@testable import ETONNX
import Foundation
import XCTest

/// Proofs of the ONNX exporter (Sources/ETONNX/Export): every configuration up to
/// vittrack-d12-c256 (and the zoo model) is exported once with the same seeded random weights
/// ("probe" scheme, so no map is flat) and run on the same full-size inputs by
/// - our native forward (`Model.forward`),
/// - ONNX Runtime (scripts/reference/export_check.py, one thread),
/// - our reader and `ExecutionPlan`,
/// - OpenCV's `cv2.dnn` for `vittrack-opencv-48` and `et-128-fgaf3-bn`;
/// all three outputs must agree to 1e-4 relative (max abs diff / max |reference|).
final class ExportTests: XCTestCase {
    static let tolerance: Float = 1e-4
    /// Every configuration up to vittrack-d12-c256 (all but the c768 ones).
    static let parityNames = ModelRegistry.names.filter { !$0.hasSuffix("-c768") }
    static let cornerNames = ["vittrack-d3-c128@head=corner,headChannels=64", "et-128-fgaf3-bn@head=corner"]
    static let openCVNames: Set<String> = ["vittrack-opencv-48", "et-128-fgaf3-bn"]
    /// Full onnx.checker (strict shape inference) on these; the rest share the code paths.
    static let checkerNames: Set<String> = ["vittrack-opencv-48", "et-128-fgaf3-bn", "et-128-faf3-bn", "vittrack-d3-c128",
                                            "et-256-fgaf3-c2", "vittrack-d3-c128@head=corner,headChannels=64"]

    struct Exported {
        var name: String
        var configuration: ModelConfiguration
        var path: String
        var initializerNames: [String]
        var nodeNames: [String]
        var metadata: [(key: String, value: String)]
        /// By ONNX output name.
        var native: [String: Tensor]
        var ours: Result<[String: Tensor], Error>
        var tableNames: Set<String>
        var foldedConvs: Set<String>
    }

    struct Fixture {
        var exported: [Exported]
        var results: [String: Any]
        var seconds: (export: Double, python: Double)
    }

    static func outputNames(_ cfg: ModelConfiguration) -> [String] { ModelExporter.outputs(of: cfg).map(\.name) }

    static func nativeOutputs(_ o: ModelOutput, _ cfg: ModelConfiguration) -> [String: Tensor] {
        cfg.head == .center ? ["output1": o.score!, "output2": o.size!, "output3": o.offset!]
            : ["box": o.box!, "top_left": o.topLeft!, "bottom_right": o.bottomRight!]
    }

    /// Uniform in [-2, 2): about the range of ImageNet-normalised pixels.
    static func inputs() -> (template: Tensor, search: Tensor) {
        var s: UInt64 = 0x5EED
        func next() -> Float {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(s >> 40) / Float(1 << 24) * 4 - 2
        }
        return (Tensor(shape: [1, 3, 128, 128], data: (0..<3 * 128 * 128).map { _ in next() }),
                Tensor(shape: [1, 3, 256, 256], data: (0..<3 * 256 * 256).map { _ in next() }))
    }

    static func write(_ t: Tensor, _ path: String) throws {
        try t.data.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
    }

    /// Exports every case once and runs the Python side once for the whole class.
    static let fixture: Result<Fixture, Error> = {
        do {
            let fm = FileManager.default
            let dir = fm.temporaryDirectory.appendingPathComponent("etrack-export-\(getpid())")
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
            let (z, x) = inputs()
            let zPath = dir.appendingPathComponent("template.f32").path, xPath = dir.appendingPathComponent("search.f32").path
            try write(z, zPath)
            try write(x, xPath)
            let t0 = Date()
            var exported: [Exported] = []
            var manifest: [[String: Any]] = []
            for (i, name) in (parityNames + cornerNames).enumerated() {
                let cfg = try ModelRegistry.configuration(named: name)
                let model = try RandomWeights.model(cfg, seed: UInt64(1000 + i), scheme: .probe)
                let def = ModelExporter.definition(of: model)
                let path = dir.appendingPathComponent("\(i).onnx").path
                try def.write(to: path)
                let native = nativeOutputs(try model.forward(template: z, search: x), cfg)
                let ours = Result { () throws -> [String: Tensor] in
                    let plan = try ExecutionPlan(model: ONNXModel(path: path),
                                                 inputShapes: ["template": z.shape, "search": x.shape])
                    return try plan.run(["template": z, "search": x])
                }
                var folded = Set<String>()
                for l in ModelArchitecture.layers(of: cfg) {
                    if case let .convolution(c) = l.kind, c.batchNorm != nil { folded.insert(l.name) }
                }
                exported.append(Exported(name: name, configuration: cfg, path: path,
                                         initializerNames: def.graph.initializers.map(\.name),
                                         nodeNames: def.graph.nodes.map(\.name), metadata: def.metadata,
                                         native: native, ours: ours, tableNames: Set(model.table.specs.map(\.name)),
                                         foldedConvs: folded))
                manifest.append(["name": name, "model": path, "opencv": openCVNames.contains(name),
                                 "checker": checkerNames.contains(name),
                                 "inputs": [["name": "template", "shape": z.shape, "file": zPath],
                                            ["name": "search", "shape": x.shape, "file": xPath]]])
            }
            let t1 = Date()
            let manifestPath = dir.appendingPathComponent("manifest.json").path
            try JSONSerialization.data(withJSONObject: ["cases": manifest]).write(to: URL(fileURLWithPath: manifestPath))
            let script = Fixtures.repoRoot.appendingPathComponent("scripts/reference/export_check.py").path
            let out = dir.appendingPathComponent("out").path
            let (status, log) = try Fixtures.run(["python3", script, manifestPath, out])
            guard status == 0 else { throw ONNXError("export_check.py failed: \(log)") }
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/result.json"))) as! [String: Any]
            let t2 = Date()
            return .success(Fixture(exported: exported, results: json,
                                    seconds: (t1.timeIntervalSince(t0), t2.timeIntervalSince(t1))))
        } catch {
            return .failure(error)
        }
    }()

    /// max |got − want| / max |want| (NaN counts as infinite).
    static func relativeError(_ got: Tensor, _ want: Tensor) -> Float {
        guard got.count == want.count else { return .infinity }
        let scale = max(want.data.map { abs($0) }.max() ?? 0, 1e-6)
        var diff: Float = 0
        for (a, b) in zip(got.data, want.data) { diff = max(diff, a.isNaN || b.isNaN ? .infinity : abs(a - b)) }
        return diff / scale
    }

    func runtimeOutputs(_ f: Fixture, _ name: String, _ key: String) throws -> [String: Tensor] {
        guard let d = (f.results[name] as? [String: Any])?[key] as? [String: Any] else {
            throw ONNXError("\(name): no \(key) result (\(String(describing: f.results[name])))")
        }
        if let e = d["error"] as? String { throw ONNXError("\(name): \(key) failed: \(e)") }
        var r: [String: Tensor] = [:]
        for o in d["outputs"] as! [[String: Any]] {
            let shape = (o["shape"] as! [NSNumber]).map(\.intValue)
            r[o["name"] as! String] = Tensor(shape: shape, data: try Fixtures.readFloats(o["file"] as! String))
        }
        return r
    }

    /// Compares every output of `got` with `want`; returns the largest relative error.
    @discardableResult
    func compare(_ got: [String: Tensor], _ want: [String: Tensor], _ cfg: ModelConfiguration, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) -> Float {
        var worst: Float = 0
        for name in Self.outputNames(cfg) {
            guard let g = got[name], let w = want[name] else {
                XCTFail("\(what): output \(name) missing", file: file, line: line)
                return .infinity
            }
            XCTAssertEqual(g.shape, w.shape, "\(what) \(name): shape", file: file, line: line)
            let e = Self.relativeError(g, w)
            worst = max(worst, e)
            XCTAssertLessThan(e, Self.tolerance, "\(what) \(name): relative error \(e)", file: file, line: line)
        }
        return worst
    }

    func testNativeForwardMatchesONNXRuntimeForEveryConfiguration() throws {
        let f = try Self.fixture.get()
        print(String(format: "export fixture: %.1f s export + native + our executor, %.1f s Python (ORT, cv2, checker)",
                     f.seconds.export, f.seconds.python))
        XCTAssertEqual(f.exported.filter { Self.parityNames.contains($0.name) }.count, 18)
        for e in f.exported {
            let ort = try runtimeOutputs(f, e.name, "ort")
            var errs: [String] = []
            for name in Self.outputNames(e.configuration) {
                let n = e.native[name]!, o = ort[name]!
                XCTAssertEqual(o.shape, ModelExporter.outputs(of: e.configuration).first { $0.name == name }!.dims, "\(e.name) \(name)")
                let err = Self.relativeError(n, o)
                errs.append(String(format: "%@ %.2e", name, err))
                XCTAssertLessThan(err, Self.tolerance, "\(e.name) \(name): native vs ONNX Runtime relative error \(err)")
                // The proof is only as strong as the maps are varied.
                if name != "box" {
                    XCTAssertGreaterThan(n.data.max()! - n.data.min()!, 1e-3, "\(e.name) \(name): flat map, test too weak")
                }
            }
            print("native vs ORT  \(e.name): \(errs.joined(separator: ", "))")
        }
    }

    func testOurExecutorRunsEveryExport() throws {
        let f = try Self.fixture.get()
        for e in f.exported {
            let ours = try e.ours.get()
            let worstNative = compare(ours, e.native, e.configuration, "\(e.name) ExecutionPlan vs native")
            let worstORT = compare(ours, try runtimeOutputs(f, e.name, "ort"), e.configuration, "\(e.name) ExecutionPlan vs ORT")
            print(String(format: "ExecutionPlan  %@: vs native %.2e, vs ORT %.2e", e.name, worstNative, worstORT))
        }
    }

    func testOpenCVRunsTheZooModelAndFGAF() throws {
        let f = try Self.fixture.get()
        for e in f.exported where Self.openCVNames.contains(e.name) {
            let cv = try runtimeOutputs(f, e.name, "opencv")
            let ort = try runtimeOutputs(f, e.name, "ort")
            let a = compare(cv, e.native, e.configuration, "\(e.name) cv2.dnn vs native")
            let b = compare(cv, ort, e.configuration, "\(e.name) cv2.dnn vs ORT")
            print(String(format: "cv2.dnn        %@: vs native %.2e, vs ORT %.2e", e.name, a, b))
        }
    }

    /// Inputs, outputs, metadata, the checker, initializer and node names.
    func testInterfaceMetadataAndNames() throws {
        let f = try Self.fixture.get()
        for e in f.exported {
            let r = try XCTUnwrap(f.results[e.name] as? [String: Any], e.name)
            XCTAssertNil(r["error"], "\(e.name): \(r["error"] ?? "")")
            if Self.checkerNames.contains(e.name) { XCTAssertEqual(r["checker"] as? String, "ok", e.name) }
            let ins = try XCTUnwrap(r["inputs"] as? [String: [Int]], e.name)
            XCTAssertEqual(ins, ["template": [1, 3, 128, 128], "search": [1, 3, 256, 256]], e.name)
            let outs = try XCTUnwrap(r["outputs"] as? [String: [Int]], e.name)
            XCTAssertEqual(outs, Dictionary(uniqueKeysWithValues: ModelExporter.outputs(of: e.configuration).map { ($0.name, $0.dims) }), e.name)
            if e.configuration.head == .center {
                XCTAssertEqual(outs, ["output1": [1, 1, 16, 16], "output2": [1, 2, 16, 16], "output3": [1, 2, 16, 16]], e.name)
            }

            // Metadata: exactly these keys, in this order, read back by onnx and by our reader.
            XCTAssertEqual(e.metadata.map(\.key), ModelExporter.metadataKeys, e.name)
            let meta = try XCTUnwrap(r["metadata"] as? [String: String], e.name)
            XCTAssertEqual(meta, Dictionary(uniqueKeysWithValues: e.metadata.map { ($0.key, $0.value) }), e.name)
            XCTAssertEqual(meta["etrack.config"], e.name)
            XCTAssertEqual(meta["etrack.template_size"], "128")
            XCTAssertEqual(meta["etrack.search_size"], "256")
            XCTAssertEqual(meta["etrack.mean"], "0.485,0.456,0.406")
            XCTAssertEqual(meta["etrack.std"], "0.229,0.224,0.225")
            XCTAssertEqual(meta["etrack.color_order"], "RGB")
            XCTAssertEqual(meta["etrack.format_version"], "1")
            XCTAssertEqual(meta["etrack.producer_version"], ModelExporter.producerVersion)
            if e.configuration.head == .center {
                XCTAssertEqual(meta["etrack.box"], "center: output2=size (w,h) as fractions of the search crop, output3=offset (dx,dy) in cells")
                XCTAssertEqual(meta["etrack.score"], "sigmoid")
            }
            XCTAssertEqual(try ONNXModel(path: e.path).metadata, meta, e.name)

            // Initializers: stable tensor names (a folded conv's bias is `<conv>.bias`), no BN
            // tensors, plus the builder's constants and the corner head's grids.
            let names = e.initializerNames
            XCTAssertEqual(Set(names).count, names.count, "\(e.name): duplicate initializer")
            for n in names {
                let folded = n.hasSuffix(".bias") && e.foldedConvs.contains(String(n.dropLast(5)))
                let constant = n.hasPrefix("const_") || n.hasPrefix("box_head/")
                XCTAssertTrue(e.tableNames.contains(n) || folded || constant, "\(e.name): initializer '\(n)' is not a stable name")
                XCTAssertFalse(n.contains("running_") || n.contains(".bn.") || n.hasSuffix(".1.weight"), "\(e.name): BN tensor '\(n)' left in")
            }
            for t in e.tableNames where t.hasSuffix(".weight") && !t.contains(".bn.") && !(t.hasPrefix("box_head.") && t.contains(".1.")) {
                if e.configuration.head == .center || !t.contains("_ctr") { XCTAssertTrue(names.contains(t), "\(e.name): weight '\(t)' not exported") }
            }
            // Nodes: unique module paths.
            XCTAssertEqual(Set(e.nodeNames).count, e.nodeNames.count, "\(e.name): duplicate node name")
            let roots = ["template/", "search/", "tokens/", "blocks.", "norm", "head_input/", "box_head"]
            for n in e.nodeNames { XCTAssertTrue(roots.contains { n.hasPrefix($0) }, "\(e.name): node '\(n)' is not a module path") }
            XCTAssertTrue(e.nodeNames.contains("search/patch_embed.0.conv") || e.nodeNames.contains("search/patch_embed.proj"), e.name)
            XCTAssertTrue(e.nodeNames.contains("box_head.conv1_\(e.configuration.head == .center ? "ctr" : "tl").0"), e.name)
        }
    }

    // MARK: Weights files

    static func tensorsFile(_ tensors: [String: Tensor], metadata: [String: String], _ tag: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("etrack-export-weights-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("\(tag).safetensors").path
        try SafeTensors(tensors: tensors, metadata: metadata).write(to: path)
        return path
    }

    func assertExportError(_ path: String, config: String? = nil, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ExportWeights.model(contentsOf: path, configuration: config), file: file, line: line) { e in
            let m = String(describing: e)
            XCTAssertTrue(e is ExportError, "\(type(of: e)): \(m)", file: file, line: line)
            for p in parts { XCTAssertTrue(m.contains(p), "'\(m)' should mention '\(p)'", file: file, line: line) }
        }
    }

    func testWeightsFileRoundTripAndErrors() throws {
        let name = "vittrack-opencv-48"
        let cfg = try ModelRegistry.configuration(named: name)
        let tensors = RandomWeights.tensors(for: cfg, seed: 5, scheme: .timm)
        let direct = try ModelExporter.serialized(try RandomWeights.model(cfg, seed: 5))

        // Config from the metadata, or from --config; the export is byte-identical.
        let good = try Self.tensorsFile(tensors, metadata: ["config": name], "good")
        XCTAssertEqual(try ModelExporter.serialized(ExportWeights.model(contentsOf: good, configuration: nil)), direct)
        let bare = try Self.tensorsFile(tensors, metadata: [:], "bare")
        XCTAssertEqual(try ModelExporter.serialized(ExportWeights.model(contentsOf: bare, configuration: name)), direct)
        assertExportError(bare, contains: ["no configuration", "--config"])
        var tracked = tensors
        tracked["patch_embed.0.bn.num_batches_tracked"] = Tensor(shape: [], data: [3])
        XCTAssertNoThrow(try ExportWeights.model(contentsOf: Self.tensorsFile(tracked, metadata: ["etrack.config": name], "tracked"), configuration: nil))

        // Wrong shape: the tensor, expected and found shapes.
        var bad = tensors
        bad["blocks.0.attn.qkv.weight"] = Tensor(zeros: [48, 144])
        assertExportError(try Self.tensorsFile(bad, metadata: ["config": name], "shape"),
                          contains: ["blocks.0.attn.qkv.weight", "expected shape [144, 48]", "found [48, 144]", name])
        // A file that is mostly wrong: the shape mismatch leads the message, before the missing names.
        assertExportError(try Self.tensorsFile(["blocks.0.attn.qkv.weight": Tensor(zeros: [48, 144])], metadata: ["config": name], "sparse"),
                          contains: ["does not fit \(name): tensor 'blocks.0.attn.qkv.weight': expected shape [144, 48], found [48, 144]; missing tensor"])
        // Unknown and missing names.
        bad = tensors
        bad["blocks.9.attn.qkv.weight"] = Tensor(zeros: [2])
        bad["norm.bias"] = nil
        assertExportError(try Self.tensorsFile(bad, metadata: ["config": name], "names"),
                          contains: ["unexpected tensor 'blocks.9.attn.qkv.weight'", "missing tensor 'norm.bias'"])
        // The wrong configuration for the file.
        assertExportError(good, config: "et-128-fgaf3-bn", contains: ["does not fit et-128-fgaf3-bn"])
        // Unknown configuration names.
        assertExportError(try Self.tensorsFile(tensors, metadata: ["config": "et-999"], "unknown"), contains: ["unknown model 'et-999'"])
        // NaN.
        bad = tensors
        bad["box_head.conv5_ctr.bias"]!.data[0] = .nan
        assertExportError(try Self.tensorsFile(bad, metadata: ["config": name], "nan"), contains: ["box_head.conv5_ctr.bias", "NaN"])
        // Truncated file.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let cut = good.replacingOccurrences(of: "good", with: "cut")
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: cut))
        assertExportError(cut, contains: [cut])
        // Not a file.
        assertExportError("/nonexistent/w.safetensors", contains: ["/nonexistent/w.safetensors"])
    }

    /// The timm-style random weights: Linear trunc-normal .02, zero-initialised tables, the
    /// VitTrack sin/cos table, and a seed that changes the values.
    func testRandomWeights() throws {
        let cfg = try ModelRegistry.configuration(named: "vittrack-d3-c128")
        let a = RandomWeights.tensors(for: cfg, seed: 1), b = RandomWeights.tensors(for: cfg, seed: 2)
        let qkv = a["blocks.0.attn.qkv.weight"]!.data
        let std = (qkv.map { $0 * $0 }.reduce(0, +) / Float(qkv.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.001)
        XCTAssertEqual(a["blocks.0.attn.qkv.bias"]!.data.max(), 0)
        XCTAssertEqual(a["blocks.0.norm1.weight"]!.data.min(), 1)
        XCTAssertEqual(a["patch_embed.0.bn.running_var"]!.data.min(), 1)
        XCTAssertEqual(a["pos_embed"]!.data, try Model(cfg).array("pos_embed"))
        let conv = a["box_head.conv1_ctr.0.weight"]!.data, bound = 1 / Float(128 * 9).squareRoot()
        XCTAssertLessThanOrEqual(conv.map { abs($0) }.max()!, bound)
        XCTAssertGreaterThan(conv.map { abs($0) }.max()!, bound * 0.9)
        XCTAssertNotEqual(a["blocks.0.attn.qkv.weight"], b["blocks.0.attn.qkv.weight"])
        XCTAssertEqual(a["blocks.0.attn.qkv.weight"], RandomWeights.tensors(for: cfg, seed: 1)["blocks.0.attn.qkv.weight"])
        let et = RandomWeights.tensors(for: try ModelRegistry.configuration(named: "et-128-fgaf3-bn"), seed: 1)
        XCTAssertEqual(et["pos_z"]!.data.max(), 0)
        XCTAssertEqual(et["pos_x"]!.data.min(), 0)
    }

    /// `etrack.config` is the name when the registry reproduces the configuration, else JSON.
    func testConfigurationString() throws {
        XCTAssertEqual(ModelExporter.configurationString(try ModelRegistry.configuration(named: "et-256-fgaf3@depth=5")), "et-256-fgaf3@depth=5")
        var custom = try ModelRegistry.configuration(named: "et-128-fgaf3-bn")
        custom.name = "mine"
        custom.channels = 64
        let s = ModelExporter.configurationString(custom)
        XCTAssertTrue(s.hasPrefix("{"), s)
        XCTAssertEqual(try JSONDecoder().decode(ModelConfiguration.self, from: Data(s.utf8)), custom)
    }
}
