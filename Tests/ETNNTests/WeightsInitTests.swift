import ETCore
import ETNN
import Foundation
import XCTest

final class WeightsInitTests: XCTestCase {
    func testSplitMix64ReferenceValues() {
        var g = SeededGenerator(seed: 0)
        XCTAssertEqual([g.next(), g.next(), g.next()], [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
        g = SeededGenerator(seed: 1_234_567)
        XCTAssertEqual([g.next(), g.next(), g.next()], [0x599E_D017_FB08_FC85, 0x2C73_F084_5854_0FA5, 0x883E_BCE5_A3F2_7C77])
        var u = SeededGenerator(seed: 9)
        for _ in 0..<10_000 { let x = u.nextUnitDouble(); XCTAssertTrue(x >= 0 && x < 1) }
    }

    func testStreamsDependOnSeedAndNameOnly() {
        let a = ParameterInit.vitDefault.tensor([3, 4], seed: 7, name: "blocks.0.attn.qkv.weight")
        _ = ParameterInit.vitDefault.tensor([5], seed: 7, name: "pos_embed")       // creation order does not matter
        XCTAssertEqual(a, ParameterInit.vitDefault.tensor([3, 4], seed: 7, name: "blocks.0.attn.qkv.weight"))
        XCTAssertNotEqual(a, ParameterInit.vitDefault.tensor([3, 4], seed: 8, name: "blocks.0.attn.qkv.weight"))
        XCTAssertNotEqual(a, ParameterInit.vitDefault.tensor([3, 4], seed: 7, name: "blocks.1.attn.qkv.weight"))
        XCTAssertNotEqual(SeededGenerator(seed: 7, stream: "a"), SeededGenerator(seed: 7, stream: "b"))
        // A longer tensor starts with the shorter one's values (one draw per element, row-major).
        let long = ParameterInit.vitDefault.tensor([20], seed: 7, name: "blocks.0.attn.qkv.weight")
        XCTAssertEqual(Array(long.data.prefix(12)), a.data)
    }

    func testErfinvInvertsErf() {
        XCTAssertEqual(ParameterInit.erfinv(0), 0)
        XCTAssertEqual(ParameterInit.erfinv(1), .infinity)
        XCTAssertEqual(ParameterInit.erfinv(-1), -.infinity)
        var worst = 0.0
        for k in 1..<2000 {
            let y = -1 + Double(k) / 1000
            let x = ParameterInit.erfinv(y)
            XCTAssertEqual(ParameterInit.erfinv(-y), -x, accuracy: 1e-15)
            worst = max(worst, abs(erf(x) - y))
        }
        for y in [1 - 1e-10, 1 - 1e-15, 1e-300] { worst = max(worst, abs(erf(ParameterInit.erfinv(y)) - y)) }
        XCTAssertLessThan(worst, 4e-16, "max |erf(erfinv(y)) - y|")
        XCTAssertEqual(ParameterInit.erfinv(0.5), 0.4769362762044699, accuracy: 1e-15)
    }

    func moments(_ v: [Float]) -> (mean: Double, std: Double) {
        let n = Double(v.count)
        let m = v.reduce(0.0) { $0 + Double($1) } / n
        let s = (v.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / n).squareRoot()
        return (m, s)
    }

    func testTruncatedNormalMatchesTimmDistribution() {
        var g = SeededGenerator(seed: 2024)
        let n = 200_000
        // Default: std 0.02, absolute cut ±2 (= ±100 σ): in effect N(0, 0.02²).
        let t = ParameterInit.vitDefault.tensor([n], generator: &g)
        let (m, s) = moments(t.data)
        XCTAssertEqual(m, 0, accuracy: 5 * 0.02 / Double(n).squareRoot(), "mean")
        XCTAssertEqual(s, 0.02, accuracy: 0.02 * 0.01, "std")
        XCTAssertTrue(t.data.allSatisfy { $0 >= -2 && $0 <= 2 })
        XCTAssertGreaterThan(t.data.filter { abs($0) > 0.04 }.count, n / 30, "±2σ is not a cut with the default absolute bounds")

        // A real cut at ±2σ: std of the truncated normal = σ·sqrt(1 - 2·2φ(2)/(Φ(2)-Φ(-2))) ≈ 0.87962 σ.
        let cut = ParameterInit.truncatedNormal(std: 0.02, a: -0.04, b: 0.04).tensor([n], generator: &g)
        XCTAssertTrue(cut.data.allSatisfy { $0 >= -0.04 && $0 <= 0.04 })
        XCTAssertEqual(moments(cut.data).std, 0.87962 * 0.02, accuracy: 0.02 * 0.01)

        // One-sided: N(1, 1) cut to [1, 50] is a half-normal shifted by 1, mean 1 + sqrt(2/π).
        let half = ParameterInit.truncatedNormal(mean: 1, std: 1, a: 1, b: 50).tensor([n], generator: &g)
        XCTAssertTrue(half.data.allSatisfy { $0 >= 1 })
        XCTAssertEqual(moments(half.data).mean, 1 + (2 / Double.pi).squareRoot(), accuracy: 0.01)
    }

    func testConstantsAndUniform() {
        var g = SeededGenerator(seed: 3)
        let before = g
        XCTAssertEqual(ParameterInit.zeros.tensor([2, 3], generator: &g), Tensor(zeros: [2, 3]))
        XCTAssertEqual(ParameterInit.ones.tensor([4], generator: &g).data, [1, 1, 1, 1])
        XCTAssertEqual(ParameterInit.constant(-0.5).tensor([], generator: &g).data, [-0.5])
        XCTAssertEqual(g, before, "constants draw no random numbers")
        let u = ParameterInit.uniform(low: -0.25, high: 0.75).tensor([50_000], generator: &g)
        XCTAssertTrue(u.data.allSatisfy { $0 >= -0.25 && $0 < 0.75 })
        XCTAssertEqual(moments(u.data).mean, 0.25, accuracy: 0.01)
    }
}
