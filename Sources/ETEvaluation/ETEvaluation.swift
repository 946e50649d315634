// Evaluation toolkit: datasets, resumable OPE runner, metrics, reports. (See issue 4.)
