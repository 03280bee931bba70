"""The renderer: a parsed 公文 in, a GB/T 9704-2012 red-header PDF/A-2b out.

* layout.py – `render_pdf` and `count_pages`: WeasyPrint layout, the 版记 on an even page,
  justification, metadata; `FontFetcher`, the only loader of resources.
* context.py – what the template needs: text runs, the 标志, the title's grid gap, the
  signature and seal, the 附件 pages, the 版记.
* titles.py – titles broken between words into a trapezoid or diamond.
* coverage.py – which face prints each character; refusal of characters none prints.
* fonts.py, seal.py, metadata.py – the faces, the drawn seal, the XMP metadata.
* patches.py – the changes to WeasyPrint 70, behind one version-checked `install()`.
* libraries.py – WeasyPrint's system libraries found from the linker's cache, installed
  here so that it is in place before any module imports WeasyPrint.

Importing the package imports nothing heavy: the exchange format checks characters with
coverage.py without loading WeasyPrint.
"""

from . import libraries

libraries.install()
