// Portable Winograd F(2x2,3x3) transforms (body in ../winograd.inc).
#include <stddef.h>
#include "../internal.h"

#define WINO_ATTR
#define WINO_SPLIT wino_split_generic
#define WINO_COLS wino_cols_generic
#define WINO_ROWS wino_rows_generic
#define WINO_INPUT ck_winograd23_input_generic
#define WINO_OUTPUT ck_winograd23_output_generic
#include "../winograd.inc"
