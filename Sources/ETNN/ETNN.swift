// ETNN: layers with forward (and, later, backward) passes, the EfficientTrack / VitTrack model
// family as data, and parameter/MAC accounting. Imports ETCore only.
