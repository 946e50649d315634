import ETData
import ETNN
import Foundation

/// The value of one batch's loss, term by term (each already averaged as the recipe says).
public struct LossValue: Equatable, Sendable {
    public var total = 0.0, focal = 0.0, giou = 0.0, l1 = 0.0
    /// Mean IoU of the decoded boxes with the ground truth (logged, not differentiated).
    public var iou = 0.0
    public init() {}
}

/// The recipe's loss weights (architecture.md §11): focal ×1 + GIoU ×2 + L1 ×5; the corner head
/// has no focal term.
public struct LossWeights: Equatable, Sendable, Codable {
    public var focal = 1.0, giou = 2.0, l1 = 5.0
    public init(focal: Double = 1, giou: Double = 2, l1: Double = 5) { self.focal = focal; self.giou = giou; self.l1 = l1 }
}

/// The tracking losses of OSTrack (center head) and STARK (corner head), with their gradients.
///
/// Targets are boxes in search-crop fractions: top-left x, y, width, height (OSTrack's
/// normalised `search_anno`). Everything is computed in Double and the gradient is returned in the
/// network's scalar type, so the gradient checks compare it with float64 central differences.
public enum TrackingLoss {
    /// CenterNet's `gaussian_radius` (as OSTrack's `CenterNetHeatMap.get_gaussian_radius`): the
    /// smallest of the three quadratic-root radii for which a box shifted by r keeps IoU ≥
    /// `minOverlap`. Sizes are in heat-map cells.
    public static func gaussianRadius(width w: Double, height h: Double, minOverlap m: Double = 0.7) -> Double {
        func root(_ a: Double, _ b: Double, _ c: Double) -> Double { (b + (b * b - 4 * a * c).squareRoot()) / 2 }
        let r1 = root(1, h + w, w * h * (1 - m) / (1 + m))
        let r2 = root(4, 2 * (h + w), (1 - m) * w * h)
        let r3 = root(4 * m, -2 * m * (h + w), (m - 1) * w * h)
        return min(r1, min(r2, r3))
    }

    /// OSTrack's `generate_heatmap` for one box: the box scaled to `side` cells, the peak at the
    /// centre rounded half-to-even (`torch.round`), radius `Int(max(gaussian_radius, 0))`, and a
    /// Gaussian of σ = (2r+1)/6 drawn with CenterNet's `draw_gaussian` bounds (values below
    /// float32 ε·max set to 0). A centre outside the map leaves it empty.
    public static func heatmap(for box: BoundingBox, side: Int) -> [Double] {
        var map = [Double](repeating: 0, count: side * side)
        let s = Double(side)
        let w = box.width * s, h = box.height * s
        let cx = (box.x * s + w / 2).rounded(.toNearestOrEven), cy = (box.y * s + h / 2).rounded(.toNearestOrEven)
        guard cx.isFinite, cy.isFinite, cx >= 0, cy >= 0, cx < s, cy < s else { return map }
        let radius = Int(max(gaussianRadius(width: w, height: h), 0))
        let sigma = Double(2 * radius + 1) / 6
        let x = Int(cx), y = Int(cy)
        let left = min(x, radius), right = min(side - x, radius + 1)
        let top = min(y, radius), bottom = min(side - y, radius + 1)
        let eps = Double(Float.ulpOfOne)   // gaussian2D's threshold: np.finfo(np.float32).eps × max (max = 1)
        for dy in -top..<bottom {
            for dx in -left..<right {
                var g = Foundation.exp(-Double(dx * dx + dy * dy) / (2 * sigma * sigma))
                if g < eps { g = 0 }
                map[(y + dy) * side + (x + dx)] = max(map[(y + dy) * side + (x + dx)], g)
            }
        }
        return map
    }

    /// The loss of `output` against `targets` (one box per batch element) and its gradient with
    /// respect to the output maps.
    ///
    /// - Center head: the focal loss (α 2, β 4, OSTrack's `FocalLoss`: positives where the
    ///   heat map is exactly 1, divided by their count over the batch) on the score map; GIoU
    ///   (mean of 1 − GIoU, OSTrack's `giou_loss`) and L1 (mean over B·4) on the xyxy box decoded
    ///   at the argmax of the *predicted* score map, against the ground-truth xyxy clamped to
    ///   [0, 1]. The box terms reach only the size and offset maps. If a decoded box is not a
    ///   valid xyxy box (NaN), the GIoU term is 0 for the batch, as OSTrack's `try/except` does.
    /// - Corner head: GIoU and L1 on the soft-argmax box (STARK), no focal term.
    public static func evaluate<T: TrainingScalar>(_ output: TrainingOutput<T>, targets: [BoundingBox], head: HeadKind,
                                                   side: Int, weights: LossWeights = LossWeights())
        -> (value: LossValue, gradient: OutputGradient<T>) {
        let b = targets.count, cells = side * side
        var value = LossValue()
        var grad = OutputGradient<T>()
        // Predicted boxes (cx, cy, w, h) and, for the center head, where they were read.
        var boxes = [(Double, Double, Double, Double)](), cellsRead = [Int]()
        switch head {
        case .center:
            precondition(output.score.count == b * cells, "TrackingLoss: \(b) targets for \(output.score.count / cells) score maps")
            // Focal loss.
            var positives = 0.0, sum = 0.0
            var dScore = [Double](repeating: 0, count: b * cells)
            for i in 0..<b {
                let target = heatmap(for: targets[i], side: side)
                for j in 0..<cells {
                    let p = max(Double(output.score[i * cells + j]), 1e-12), y = target[j]
                    if y == 1 {
                        positives += 1
                        sum += Foundation.log(p) * (1 - p) * (1 - p)
                        dScore[i * cells + j] = (1 - p) * (1 - p) / p - 2 * (1 - p) * Foundation.log(p)
                    } else {
                        let w = Foundation.pow(1 - y, 4)
                        sum += Foundation.log(1 - p) * p * p * w
                        dScore[i * cells + j] = (-p * p / (1 - p) + 2 * p * Foundation.log(1 - p)) * w
                    }
                }
            }
            let scale = positives > 0 ? -1 / positives : -1
            value.focal = sum * scale
            grad.score = dScore.map { T($0 * scale * weights.focal) }
            // Decode at the argmax (first maximum, row-major).
            for i in 0..<b {
                var best = 0
                for j in 1..<cells where output.score[i * cells + j] > output.score[i * cells + best] { best = j }
                cellsRead.append(best)
                let ix = Double(best % side), iy = Double(best / side)
                let base = i * 2 * cells
                boxes.append(((ix + Double(output.offset[base + best])) / Double(side),
                              (iy + Double(output.offset[base + cells + best])) / Double(side),
                              Double(output.size[base + best]), Double(output.size[base + cells + best])))
            }
        case .corner:
            precondition(output.box.count == b * 4, "TrackingLoss: \(b) targets for \(output.box.count / 4) boxes")
            for i in 0..<b {
                boxes.append((Double(output.box[4 * i]), Double(output.box[4 * i + 1]),
                              Double(output.box[4 * i + 2]), Double(output.box[4 * i + 3])))
            }
        }

        // GIoU and L1 on xyxy, gradient with respect to (cx, cy, w, h).
        var dBox = [(Double, Double, Double, Double)](repeating: (0, 0, 0, 0), count: b)
        let valid = boxes.allSatisfy { $0.2 >= 0 && $0.3 >= 0 }   // false for NaN too
        var giouSum = 0.0, l1Sum = 0.0, iouSum = 0.0
        for i in 0..<b {
            let (cx, cy, w, h) = boxes[i]
            let p = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
            let t = targets[i]
            let g = [t.x, t.y, t.x + t.width, t.y + t.height].map { min(max($0, 0), 1) }
            // L1 (mean over B·4): d/dp = sign(p − g) / (4B); sign(0) = 0 as in PyTorch.
            var dp = [Double](repeating: 0, count: 4)
            for k in 0..<4 {
                let d = p[k] - g[k]
                l1Sum += abs(d)
                dp[k] = weights.l1 * (d > 0 ? 1 : d < 0 ? -1 : 0) / Double(4 * b)
            }
            let (giou, iou, dGiou) = generalizedIoU(p, g)
            iouSum += iou.isFinite ? iou : 0
            if valid {
                giouSum += 1 - giou
                for k in 0..<4 { dp[k] -= weights.giou * dGiou[k] / Double(b) }
            }
            // x1 = cx − w/2, x2 = cx + w/2 (likewise y).
            dBox[i] = (dp[0] + dp[2], dp[1] + dp[3], (dp[2] - dp[0]) / 2, (dp[3] - dp[1]) / 2)
        }
        value.giou = valid ? giouSum / Double(b) : 0
        value.l1 = l1Sum / Double(4 * b)
        value.iou = iouSum / Double(b)
        // The corner head's focal term is 0.
        value.total = weights.focal * value.focal + weights.giou * value.giou + weights.l1 * value.l1

        switch head {
        case .center:
            var dSize = [T](repeating: 0, count: b * 2 * cells), dOffset = [T](repeating: 0, count: b * 2 * cells)
            for i in 0..<b {
                let j = cellsRead[i], base = i * 2 * cells
                dOffset[base + j] = T(dBox[i].0 / Double(side))
                dOffset[base + cells + j] = T(dBox[i].1 / Double(side))
                dSize[base + j] = T(dBox[i].2)
                dSize[base + cells + j] = T(dBox[i].3)
            }
            grad.size = dSize
            grad.offset = dOffset
        case .corner:
            grad.box = dBox.flatMap { [T($0.0), T($0.1), T($0.2), T($0.3)] }
        }
        return (value, grad)
    }

    /// GIoU of xyxy boxes p and g (DETR's `generalized_box_iou` for one pair), the IoU, and
    /// ∂GIoU/∂p. The clamps of intersection and hull sizes pass gradient where they are ≥ 0.
    public static func generalizedIoU(_ p: [Double], _ g: [Double]) -> (giou: Double, iou: Double, gradient: [Double]) {
        let areaP = (p[2] - p[0]) * (p[3] - p[1]), areaG = (g[2] - g[0]) * (g[3] - g[1])
        let iwRaw = min(p[2], g[2]) - max(p[0], g[0]), ihRaw = min(p[3], g[3]) - max(p[1], g[1])
        let iw = max(iwRaw, 0), ih = max(ihRaw, 0)
        let inter = iw * ih
        let union = areaP + areaG - inter
        let cw = max(max(p[2], g[2]) - min(p[0], g[0]), 0), ch = max(max(p[3], g[3]) - min(p[1], g[1]), 0)
        let hull = cw * ch
        let iou = inter / union
        let giou = iou - (hull - union) / hull
        // giou = inter/union − 1 + union/hull with union = areaP + areaG − inter.
        let dInter = 1 / union + inter / (union * union) - 1 / hull
        let dUnionDirect = -inter / (union * union) + 1 / hull   // ∂giou/∂union holding inter
        let dHull = -union / (hull * hull)
        // ∂areaP/∂p.
        let dAreaP = [-(p[3] - p[1]), -(p[2] - p[0]), p[3] - p[1], p[2] - p[0]]
        // ∂inter/∂p: iw depends on p[0] (when p[0] > g[0]) and p[2] (when p[2] < g[2]).
        var dI = [0.0, 0, 0, 0]
        if iwRaw >= 0 {
            if p[0] > g[0] { dI[0] = -ih }
            if p[2] < g[2] { dI[2] = ih }
        }
        if ihRaw >= 0 {
            if p[1] > g[1] { dI[1] = -iw }
            if p[3] < g[3] { dI[3] = iw }
        }
        var dH = [0.0, 0, 0, 0]
        if p[0] < g[0] { dH[0] = -ch }
        if p[2] > g[2] { dH[2] = ch }
        if p[1] < g[1] { dH[1] = -cw }
        if p[3] > g[3] { dH[3] = cw }
        let d = (0..<4).map { k in dInter * dI[k] + dUnionDirect * dAreaP[k] + dHull * dH[k] }
        return (giou, iou, d)
    }
}
