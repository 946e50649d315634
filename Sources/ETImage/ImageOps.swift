/// Pixel operations on ``Image``: OpenCV-exact crop and resize, statistics, conversion to
/// network input, and drawing.
///
/// Size letters used in this module: W, H = frame width and height, C = channels,
/// w, h = crop (ROI) width and height, OW, OH = output width and height.
public enum ImageOps {}
