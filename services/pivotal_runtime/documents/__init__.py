"""Business documents (quotes, invoices, credit notes) as PDFs, shared by every domain that
prints one.

- `model` (pure, a domain may import it): `Party`, a seller or customer as printed;
- `locale_format`: amounts, numbers, percentages, dates and countries in the organization's
  locale (babel);
- `pdf`: the reportlab layout pieces: fonts, styles, letterhead, address block, a lines
  table whose number columns fit their widest entry, a totals table, and the page canvas
  with the seller's footer, page numbers and an optional watermark (DRAFT, VOID).
"""
