"""Excel layer: template (xlsxwriter), reader (own sheet parser, openpyxl for the rare rest), report and charts
(xlsxwriter), and the lossless package merge."""
