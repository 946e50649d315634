import XCTest
import ETCore

/// Runs the GEMM and convolution tests (and the row kernels) with the portable C kernels forced,
/// so the fallback that Apple/arm64 builds use is checked on x86 as well.
final class PortableKernelTests: XCTestCase {
    override func setUp() { Kernels.usePortableKernels(true) }
    override func tearDown() { Kernels.usePortableKernels(false) }

    func testInstructionSet() {
        XCTAssertEqual(Kernels.instructionSet, "portable")
    }

    func testGEMM() { KernelPaths.allGEMM() }
    func testConvolutions() { KernelPaths.allConvolutions() }

    func testRowKernels() {
        RowKernelTests.activationsMatchScalarReference()
        RowKernelTests.biasActivate()
        RowKernelTests.softmax()
        RowKernelTests.layerNorm()
        RowKernelTests.globalAveragePool()
        RowKernelTests.binaryBroadcast()
    }
}
