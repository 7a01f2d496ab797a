"""Sidecars in KOReader's exact on-disk format, written by hand from docs/reference/koreader.md §3-4.

Each covers a shape real users have: current annotations, the pre-2024 ``bookmarks``/``highlight``
format, ``doc_props``/``stats``/``copt_*`` settings, and a PDF's paging keys.
"""

CURRENT_ANNOTATIONS = b"""-- /mnt/onboard/books/Dune.sdr/metadata.epub.lua
return {
    ["annotations"] = {
        [1] = {
            ["chapter"] = "Book One: Dune",
            ["color"] = "yellow",
            ["datetime"] = "2026-02-20 18:08:13",
            ["drawer"] = "lighten",
            ["note"] = "Remember \\"the litany\\"\\
second line of the note",
            ["page"] = "/body/DocFragment[11]/body/div/section/p[7]/text().0",
            ["pageno"] = 21,
            ["pos0"] = "/body/DocFragment[11]/body/div/section/p[7]/text().0",
            ["pos1"] = "/body/DocFragment[11]/body/div/section/p[8]/text().112",
            ["text"] = "I must not fear.\\
Fear is the mind-killer.",
        },
        [2] = {
            ["chapter"] = "Book One: Dune",
            ["datetime"] = "2026-02-21 07:00:01",
            ["page"] = "/body/DocFragment[12]/body/p[3]/text().0",
            ["pageno"] = 30,
            ["text"] = "in Book One: Dune",
        },
    },
    ["bookmarks_version"] = 20200615,
    ["cache_file_path"] = "/mnt/onboard/.adds/koreader/cache/cr3cache/Dune.cr3",
    ["cre_dom_version"] = 20240114,
    ["doc_pages"] = 417,
    ["doc_path"] = "/mnt/onboard/books/Dune.epub",
    ["doc_props"] = {
        ["authors"] = "Frank Herbert",
        ["description"] = "<p>Tab\\9and\\13carriage return, caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\x96</p>",
        ["identifiers"] = "urn:isbn:9780441013593\\
calibre:42",
        ["keywords"] = "Science Fiction\\
Classics",
        ["language"] = "en",
        ["series"] = "Dune",
        ["series_index"] = 1,
        ["title"] = "Dune",
    },
    ["hide_nonlinear_flows"] = false,
    ["highlight_drawer"] = "lighten",
    ["last_xpointer"] = "/body/DocFragment[12]/body/p[3]/text().0",
    ["partial_md5_checksum"] = "8d3e2b1f0c5a4e6d7b8a9c0d1e2f3a4b",
    ["percent_finished"] = 0.059952038369305,
    ["stats"] = {
        ["authors"] = "Frank Herbert",
        ["highlights"] = 1,
        ["language"] = "en",
        ["notes"] = 1,
        ["pages"] = 417,
        ["performance_in_pages"] = {},
        ["series"] = "Dune #1",
        ["title"] = "Dune",
    },
    ["summary"] = {
        ["modified"] = "2026-02-19",
        ["note"] = "Lent to Sam",
        ["rating"] = 5,
        ["status"] = "reading",
    },
}
"""

LEGACY_BOOKMARKS = b"""-- ./docsettings/mnt/onboard/books/Old Book.sdr/metadata.epub.lua
return {
    ["bookmarks"] = {
        [1] = {
            ["chapter"] = "Chapter 2",
            ["datetime"] = "2022-03-04 21:13:07",
            ["highlighted"] = true,
            ["notes"] = "highlighted words",
            ["page"] = "/body/DocFragment[4]/body/div/p[2]/text().15",
            ["pos0"] = "/body/DocFragment[4]/body/div/p[2]/text().15",
            ["pos1"] = "/body/DocFragment[4]/body/div/p[2]/text().40",
            ["text"] = "my note\\0with a NUL and \\0001 digits",
        },
    },
    ["bookmarks_sorted_20220106"] = true,
    ["bookmarks_version"] = 20200615,
    ["copt_font_size"] = 22,
    ["copt_h_page_margins"] = {
        [1] = 15,
        [2] = 15,
    },
    ["copt_line_spacing"] = 100,
    ["copt_view_mode"] = 0,
    ["copt_word_spacing"] = {
        [1] = 95,
        [2] = 75,
    },
    ["font_face"] = "Noto Serif",
    ["highlight"] = {
        [9] = {
            [1] = {
                ["chapter"] = "Chapter 2",
                ["datetime"] = "2022-03-04 21:13:07",
                ["drawer"] = "underscore",
                ["pos0"] = "/body/DocFragment[4]/body/div/p[2]/text().15",
                ["pos1"] = "/body/DocFragment[4]/body/div/p[2]/text().40",
                ["text"] = "highlighted words",
            },
        },
        [10] = {},
        [104] = {
            [1] = {
                ["datetime"] = "2022-03-05 08:00:00",
                ["drawer"] = "lighten",
                ["edited"] = true,
                ["pos0"] = "/body/DocFragment[9]/body/p[1]/text().0",
                ["pos1"] = "/body/DocFragment[9]/body/p[1]/text().3",
                ["text"] = "A\\127\\27[0m\\\\path\\\\",
            },
        },
    },
    ["highlights_imported"] = true,
    ["last_xpointer"] = "/body/DocFragment[9]/body/p[1]/text().0",
    ["percent_finished"] = 1,
    ["summary"] = {
        ["modified"] = "2022-03-06",
        ["status"] = "complete",
    },
}
"""

PDF_PAGING = b"""-- /mnt/onboard/papers/paper.sdr/metadata.pdf.lua
return {
    ["annotations"] = {
        [1] = {
            ["datetime"] = "2025-01-01 10:00:00",
            ["drawer"] = "lighten",
            ["page"] = 3,
            ["pboxes"] = {
                [1] = {
                    ["h"] = 12.5,
                    ["w"] = 200.25,
                    ["x"] = 72,
                    ["y"] = -0,
                },
            },
            ["pos0"] = {
                ["page"] = 3,
                ["x"] = 1e-05,
                ["y"] = 1.2345678901234e+14,
            },
            ["pos1"] = {
                ["page"] = 3,
                ["x"] = 0.33333333333333,
                ["y"] = 1e+15,
            },
        },
    },
    ["kopt_contrast"] = -0.5,
    ["last_page"] = 7,
    ["mixed"] = {
        [-3] = "minus three",
        [1] = "one",
        [2.5] = "two and a half",
        [10] = "ten",
        ["ab"] = "letters",
        ["zz"] = "more letters",
    },
    ["percent_finished"] = 0.58333333333333,
    ["summary"] = {
        ["status"] = "abandoned",
    },
}
"""

ALL_SAMPLES = {
    "current_annotations": CURRENT_ANNOTATIONS,
    "legacy_bookmarks": LEGACY_BOOKMARKS,
    "pdf_paging": PDF_PAGING,
}


def header_path(sample: bytes) -> str:
    """The path in a sample's ``-- <path>`` header line."""
    return sample.split(b"\n", 1)[0][3:].decode("utf-8")
