/* analysis.h — everything that turns result files into answers, without any backend. One header per
 * module of src/analysis/; this one includes them all for the commands and tests that use several.
 *
 * Who may know whom (README.md "Layout"): these modules read result files, suites and bench/cards.csv
 * only. They never include backend headers beyond the plain device-info struct result.h needs.
 */
#ifndef SDMARK_ANALYSIS_H
#define SDMARK_ANALYSIS_H

#include "sdmark/cards.h"
#include "sdmark/claims.h"
#include "sdmark/compare.h"
#include "sdmark/estimate.h"
#include "sdmark/inputs.h"
#include "sdmark/memory_check.h"
#include "sdmark/memory_model.h"
#include "sdmark/memory_summary.h"
#include "sdmark/report.h"
#include "sdmark/result_set.h"
#include "sdmark/text_util.h"

#endif
