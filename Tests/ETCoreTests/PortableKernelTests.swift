import XCTest
import ETCore

/// Runs a cross-section of the other tests with the portable C kernels forced, so the fallback
/// that Apple/arm64 builds use is checked on x86 as well.
final class PortableKernelTests: XCTestCase {
    override func setUp() { Kernels.usePortableKernels(true) }
    override func tearDown() { Kernels.usePortableKernels(false) }

    func testGEMM() {
        GEMMTests.awkwardSizes()
        GEMMTests.transposesAndStrides()
        GEMMTests.accumulateBiasActivations()
        GEMMTests.blockingEdges()
        GEMMTests.packedOperands()
    }

    func testConvolutions() {
        Conv2DTests.depthwiseFastPaths()
        Conv2DTests.depthwiseGenericPaths()
        Conv2DTests.pointwise()
        Conv2DTests.generalConvolutions()
        Conv2DTests.nanoTrackHeadShapes()
    }

    func testRowKernels() {
        RowKernelTests.activationsMatchScalarReference()
        RowKernelTests.biasActivate()
        RowKernelTests.softmax()
        RowKernelTests.layerNorm()
        RowKernelTests.globalAveragePool()
        RowKernelTests.binaryBroadcast()
    }
}
