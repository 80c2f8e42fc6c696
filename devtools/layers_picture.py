"""Draws the layers as the code has them: ``python -m devtools.layers_picture > docs/layers.svg``.

One box per layer, top to bottom as the import contract in pyproject.toml lists them,
and one arrow per pair of layers with imports between them, labelled with how many.
An arrow that points up would break the contract, so a picture made from a tree
that passes ``lint-imports`` has none.
"""

import sys
import tomllib
from html import escape
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
BOX_WIDTH, BOX_HEIGHT, GAP, MARGIN = 560, 34, 26, 20


def _layers() -> tuple[list[str], list[list[str]]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contract = next(c for c in config["contracts"] if c["type"] == "layers")
    layers = [
        [name.strip() for name in layer.replace(":", "|").split("|")]
        for layer in contract["layers"]
    ]
    return config["root_packages"], layers


def _layer_of(module: str, layers: list[list[str]]) -> int | None:
    for index, members in enumerate(layers):
        if any(module == m or module.startswith(m + ".") for m in members):
            return index
    return None


def imports_between_layers() -> tuple[list[list[str]], dict[tuple[int, int], int]]:
    packages, layers = _layers()
    graph = grimp.build_graph(*packages)
    counts: dict[tuple[int, int], int] = {}
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            source, target = _layer_of(importer, layers), _layer_of(imported, layers)
            if source is not None and target is not None and source != target:
                counts[source, target] = counts.get((source, target), 0) + 1
    return layers, counts


def svg(layers: list[list[str]], counts: dict[tuple[int, int], int]) -> str:
    height = MARGIN * 2 + len(layers) * (BOX_HEIGHT + GAP)
    width = BOX_WIDTH + 2 * MARGIN + 260
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="13">',
        '<defs><marker id="a" markerWidth="8" markerHeight="8" refX="6" refY="3" orient="auto">'
        '<path d="M0,0 L6,3 L0,6 z" fill="#555"/></marker></defs>',
    ]
    top = {index: MARGIN + index * (BOX_HEIGHT + GAP) for index in range(len(layers))}
    for index, members in enumerate(layers):
        y = top[index]
        parts.append(
            f'<rect x="{MARGIN}" y="{y}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6" '
            'fill="#eef3fb" stroke="#4a6fa5"/>'
        )
        label = escape("  |  ".join(members))
        parts.append(f'<text x="{MARGIN + 10}" y="{y + 22}">{label}</text>')
    for lane, ((source, target), count) in enumerate(sorted(counts.items())):
        x = MARGIN + BOX_WIDTH + 14 + (lane % 24) * 10
        y1, y2 = top[source] + BOX_HEIGHT / 2, top[target] + BOX_HEIGHT / 2
        colour = "#555" if target > source else "#c0392b"  # red: an import that points up
        parts.append(
            f'<line x1="{x}" y1="{y1}" x2="{x}" y2="{y2}" stroke="{colour}" '
            'marker-end="url(#a)"><title>'
            f"{escape(' | '.join(layers[source]))} -> {escape(' | '.join(layers[target]))}: "
            f"{count} imports</title></line>"
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    sys.path.insert(0, str(ROOT))
    layers, counts = imports_between_layers()
    sys.stdout.write(svg(layers, counts))


if __name__ == "__main__":
    main()
