import ETCore
import Foundation
import XCTest
import ETNN

/// max |a − b| / max(max |b|, 1e-6), the relative error used against the reference.
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "relativeError: \(a.count) vs \(b.count) elements")
    var d: Float = 0, m: Float = 0
    for i in 0..<a.count { d = max(d, abs(a[i] - b[i])); m = max(m, abs(b[i])) }
    return d / max(m, 1e-6)
}

/// max |a − b| / (max b − min b): stricter than `relativeError` for maps that sit near a constant
/// (sigmoid outputs around 0.5), since it measures the error against the map's variation.
func spreadError(_ a: [Float], _ b: [Float]) -> Float {
    var d: Float = 0
    for i in 0..<a.count { d = max(d, abs(a[i] - b[i])) }
    return d / max(b.max()! - b.min()!, 1e-3)
}

final class ModelForwardTests: XCTestCase {
    /// Small awkward configurations covering every stem, block, layout and head.
    static func smallConfigurations() -> [ModelConfiguration] {
        var out: [ModelConfiguration] = []
        func make(_ name: String, family: ModelFamily, stem: StemKind, block: BlockKind, layout: TokenLayout,
                  head: HeadKind = .center, attentionNorm: Bool = true, qkvBias: Bool = true) -> ModelConfiguration {
            ModelConfiguration(name: name, family: family, stem: stem, channels: 32, heads: 2, depth: 2, block: block,
                               attentionNorm: attentionNorm, qkvBias: qkvBias, tokenLayout: layout, head: head,
                               headChannels: 16, templateSize: 32, searchSize: 48)
        }
        for b in [BlockKind.af, .faf, .gaf, .fgaf] {
            out.append(make("small-\(b)", family: .efficientTrack, stem: .conv3x3, block: b, layout: .templateSearch, qkvBias: false))
        }
        out.append(make("small-faf-noln", family: .efficientTrack, stem: .conv2x2, block: .faf, layout: .templateSearch,
                        attentionNorm: false, qkvBias: false))
        out.append(make("small-vit", family: .baseline, stem: .conv3x3, block: .vit, layout: .templateSearch))
        out.append(make("small-vit-linear16", family: .baseline, stem: .linear16, block: .vit, layout: .templateSearch))
        out.append(make("small-vt", family: .vitTrack, stem: .conv2x2, block: .vit, layout: .clsSearchTemplate))
        out.append(make("small-vt-corner", family: .vitTrack, stem: .conv2x2, block: .vit, layout: .clsSearchTemplate, head: .corner))
        out.append(make("small-fgaf-corner", family: .efficientTrack, stem: .conv3x3, block: .fgaf, layout: .templateSearch,
                        head: .corner, qkvBias: false))
        return out
    }

    func testWholeForwardMatchesPlainReferenceAtSmallSizes() throws {
        for (i, cfg) in Self.smallConfigurations().enumerated() {
            let model = try Model(cfg)
            randomize(model, seed: UInt64(100 + i))
            var r = TestRandom(seed: UInt64(7 + i))
            let z = r.array(3 * 32 * 32, 2), x = r.array(3 * 48 * 48, 2)
            let out = try model.forward(template: Tensor(shape: [1, 3, 32, 32], data: z),
                                        search: Tensor(shape: [1, 3, 48, 48], data: x))
            let ref = ReferenceModel(model: model).forward(template: z, search: x)
            let pairs: [(String, Tensor?)] = cfg.head == .center
                ? [("score", out.score), ("size", out.size), ("offset", out.offset)]
                : [("box", out.box), ("topLeft", out.topLeft), ("bottomRight", out.bottomRight)]
            for (key, t) in pairs {
                let t = try XCTUnwrap(t, "\(cfg.name): no \(key)")
                let e = relativeError(t.data, ref[key]!)
                let spread = spreadError(t.data, ref[key]!)
                XCTAssertGreaterThan(ref[key]!.max()! - ref[key]!.min()!, 1e-3, "\(cfg.name) \(key): reference map is flat, test too weak")
                XCTAssertLessThan(spread, 1e-4, "\(cfg.name) \(key): error/spread \(spread)")
                XCTAssertLessThan(e, 1e-4, "\(cfg.name) \(key): relative error \(e) (engine \(t.data.prefix(4)), reference \(ref[key]!.prefix(4)))")
            }
        }
    }

    /// Every named configuration up to vittrack-d12-c256 runs at full size with random weights and
    /// produces finite maps of the TrackerVit shapes.
    func testEveryConfigurationRunsWithFiniteOutputs() throws {
        let names = ModelRegistry.names.filter { !$0.hasSuffix("c768") } + ["vittrack-d3-c128@head=corner"]
        var r = TestRandom(seed: 3)
        let z = Tensor(shape: [1, 3, 128, 128], data: r.array(3 * 128 * 128, 2))
        let x = Tensor(shape: [1, 3, 256, 256], data: r.array(3 * 256 * 256, 2))
        for (i, name) in names.enumerated() {
            let model = try Model(named: name)
            randomize(model, seed: UInt64(i))
            let out = try model.forward(template: z, search: x)
            if model.configuration.head == .center {
                XCTAssertEqual(out.score?.shape, [1, 1, 16, 16], name)
                XCTAssertEqual(out.size?.shape, [1, 2, 16, 16], name)
                XCTAssertEqual(out.offset?.shape, [1, 2, 16, 16], name)
                for t in [out.score!, out.size!, out.offset!] {
                    XCTAssertTrue(t.data.allSatisfy(\.isFinite), "\(name): non-finite output")
                }
                XCTAssertTrue(out.score!.data.allSatisfy { $0 >= 1e-4 && $0 <= 1 - 1e-4 }, name)
            } else {
                XCTAssertEqual(out.box?.shape, [1, 4], name)
                XCTAssertEqual(out.topLeft?.shape, [1, 1, 16, 16], name)
                XCTAssertTrue(out.box!.data.allSatisfy(\.isFinite), name)
                XCTAssertEqual(out.topLeft!.data.reduce(0, +), 1, accuracy: 1e-4, name)
            }
        }
    }

    func testOpenCVZooModelMatchesReferenceAtFullSize() throws {
        let model = try Model(named: "vittrack-opencv-48")
        randomize(model, seed: 11)
        var r = TestRandom(seed: 12)
        let z = r.array(3 * 128 * 128, 2), x = r.array(3 * 256 * 256, 2)
        let out = try model.forward(template: Tensor(shape: [1, 3, 128, 128], data: z), search: Tensor(shape: [1, 3, 256, 256], data: x))
        let ref = ReferenceModel(model: model).forward(template: z, search: x)
        XCTAssertLessThan(relativeError(out.score!.data, ref["score"]!), 1e-4)
        XCTAssertLessThan(relativeError(out.size!.data, ref["size"]!), 1e-4)
        XCTAssertLessThan(relativeError(out.offset!.data, ref["offset"]!), 1e-4)
    }

    func testBadInputsAreNamed() throws {
        let model = try Model(named: "vittrack-opencv-48")
        let z = Tensor(zeros: [1, 3, 128, 128])
        XCTAssertThrowsError(try model.forward(template: z, search: Tensor(zeros: [1, 3, 128, 128]))) { e in
            XCTAssertTrue(String(describing: e).contains("search has shape [1, 3, 128, 128], expected [1, 3, 256, 256]"), "\(e)")
        }
        var bad = Tensor(zeros: [1, 3, 256, 256])
        bad.data[5] = .nan
        XCTAssertThrowsError(try model.forward(template: z, search: bad)) { e in
            XCTAssertTrue(String(describing: e).contains("non-finite"), "\(e)")
        }
    }
}
