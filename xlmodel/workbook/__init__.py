"""Excel layer: template (xlsxwriter), reader (openpyxl), report and charts
(xlsxwriter), and the lossless package merge."""
