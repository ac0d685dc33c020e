"""Time personalised copies by kind of name (Latin, CJK, Arabic, Indic, Ethiopic, long): ms per copy.

Usage: python benchmarks/copy_scripts.py out/pacs-sample.pdf [COPIES]   (build the PDF first)
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pacspdf.delivery.personalise import Recipient, make_copy
from pacspdf.document.personal import BaseArtifact

LONG_COMPANY = "Universitätsklinikum Schleswig-Holstein, Campus Kiel, Klinik für Radiologie"
KINDS: dict[str, Callable[[int], Recipient]] = {
    "latin": lambda i: Recipient(f"Reader Number {i}", f"Company {i % 37} Imaging GmbH",
                                 f"reader{i}@example.com"),
    "cjk": lambda i: Recipient(f"王小明{i % 7}", "北京协和医院", f"wang{i}@example.cn"),
    "arabic": lambda i: Recipient("محمد عبد الله", f"مستشفى الملك فيصل {i % 5}", f"m{i}@example.sa"),
    "hindi": lambda i: Recipient(f"किशोर प्रसाद शर्मा {i % 9}", "अपोलो अस्पताल, नई दिल्ली", f"k{i}@example.in"),
    "tamil": lambda i: Recipient("அருண் கிருஷ்ணன்", f"சென்னை மருத்துவமனை {i % 5}", f"a{i}@example.in"),
    "amharic": lambda i: Recipient("አበበ ቢቂላ", f"አዲስ ሆስፒታል {i % 5}", f"abebe{i}@example.et"),
    "long": lambda i: Recipient("Maximilian Alexander von Hohenzollern-Sigmaringen", f"{LONG_COMPANY} {i}",
                                f"maximilian.von.hohenzollern{i}@uksh-radiologie.example.de"),
}


def main(argv: list[str]) -> int:
    base = BaseArtifact.load(Path(argv[0]))
    copies = int(argv[1]) if len(argv) > 1 else 200
    make_copy(base, Recipient("Warm Up", "Warm-up Ltd", "warm@up.example"), "W0", "1 January 2026")
    for kind, who in KINDS.items():
        times = []
        for i in range(copies):
            t = time.perf_counter()
            make_copy(base, who(i), f"C{i:05d}", "27 November 2026")
            times.append(1000 * (time.perf_counter() - t))
        p95 = sorted(times)[int(0.95 * (len(times) - 1))]
        median = statistics.median(times)
        print(f"{kind:7s} first {times[0]:7.1f} ms  median {median:6.2f} ms  p95 {p95:6.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
