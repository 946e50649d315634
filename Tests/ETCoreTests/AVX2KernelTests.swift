import XCTest
import ETCore

/// Runs every GEMM and convolution test (and the row kernels) with the AVX-512 paths switched
/// off, so on a CPU with AVX-512 both the AVX-512 kernels (the other test classes) and the AVX2
/// kernels they fall back to are checked. On a CPU without AVX-512 this repeats the default path.
final class AVX2KernelTests: XCTestCase {
    override func setUp() { Kernels.useAVX2Kernels(true) }
    override func tearDown() { Kernels.useAVX2Kernels(false) }

    func testInstructionSet() {
        XCTAssertNotEqual(Kernels.instructionSet, "avx512")
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

/// The full GEMM and convolution suites, for the classes that rerun them on another kernel path.
enum KernelPaths {
    static func allGEMM() {
        GEMMTests.awkwardSizes()
        GEMMTests.transposesAndStrides()
        GEMMTests.accumulateBiasActivations()
        GEMMTests.zeroK()
        GEMMTests.blockingEdges()
        GEMMTests.packedOperands()
        GEMMTests.twoThreads()
        GEMMTests.packingFromArray()
        GEMMTests.oneAndTwoThreadsAgree()
        GEMMTests.microTileEdges()
    }

    static func allConvolutions() {
        Conv2DTests.depthwiseFastPaths()
        Conv2DTests.depthwiseGenericPaths()
        Conv2DTests.nanoTrackHeadShapes()
        Conv2DTests.depthwiseWideMaps()
        Conv2DTests.pointwise()
        Conv2DTests.generalConvolutions()
        Conv2DTests.twoThreads()
        Conv2DTests.winograd()
    }
}
