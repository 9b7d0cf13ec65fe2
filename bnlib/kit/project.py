"""O mini-projeto (trabalho 6): a configuração, o treino e a verificação do modelo.

Faz parte do material do aluno: o caderno do trabalho 6 treina os dois modelos com
:func:`train_project`. A questão 6.1 (o modelo) é conferida pela estrutura da rede
(:func:`describe_model`, que roda no processo do aluno, e :func:`judge_model`, que julga a
descrição); as outras questões do trabalho estão em :mod:`bnlib.kit.assignments.project`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bnlib.kit.engine import Result

PROJECT: dict[str, Any] = {
    "sizes": (784, 100, 100, 10),
    "activation": "sigmoid",
    "steps": 200,
    "batch_size": 64,
    "lr": 0.1,
    "n_train": 10000,
    "n_validation": 2000,
    "eval_every": 25,
    "seed": 0,
    "target": 0.8,
}
"""A configuração fixa do mini-projeto: MLP 784-100-100-10 com sigmoide, SGD."""

EXPECTED_LAYERS = {
    True: ["L", "BN", "S", "L", "BN", "S", "L"],
    False: ["L", "S", "L", "S", "L"],
}
"""A ordem das camadas: ``L`` é ``Linear``, ``BN`` uma normalização em lote, ``S`` a sigmoide."""

EXPECTED_LINEARS = [[784, 100], [100, 100], [100, 10]]


def train_project(build: Callable[[bool], Any], with_bn: bool):
    """Treina o MLP do mini-projeto com a configuração :data:`PROJECT`.

    Parameters
    ----------
    build : função ``with_bn -> torch.nn.Module``
    with_bn : bool

    Returns
    -------
    history : TrainHistory
        O devolvido por :func:`bnlib.lab.training.train_classifier` (``history.eval_step``,
        ``history.eval_accuracy``, ``history.final_accuracy``).
    """
    import torch

    from bnlib.lab.data import mnist_tensors
    from bnlib.lab.training import train_classifier

    cfg = PROJECT
    x_train, y_train = mnist_tensors("train", n=cfg["n_train"])
    x_val, y_val = mnist_tensors("validation", n=cfg["n_validation"])
    # Um só fio de execução: com 2 núcleos, o PyTorch com vários fios fica muito mais lento
    # nestas matrizes pequenas. O número de fios anterior é restaurado no fim.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(cfg["seed"])
        model = build(with_bn)
        return train_classifier(
            model,
            x_train,
            y_train,
            steps=cfg["steps"],
            batch_size=cfg["batch_size"],
            lr=cfg["lr"],
            x_eval=x_val,
            y_eval=y_val,
            eval_every=cfg["eval_every"],
            seed=cfg["seed"],
        )
    finally:
        torch.set_num_threads(threads)


def describe_model(model) -> dict[str, Any]:
    """A estrutura de um modelo, como dados simples: o que a questão 6.1 julga.

    Returns
    -------
    dict
        ``t`` (``"model"``), ``module`` (se é um ``torch.nn.Module``), ``type``, ``layers``
        (a sequência de camadas folha: ``L``, ``BN``, ``S`` ou o nome da classe),
        ``linears`` (``[entrada, saída]`` de cada ``Linear``) e ``output_shape`` (o shape da
        saída para 5 imagens, ou ``None`` se a chamada falhou, com o erro em ``error``).
    """
    import torch
    from torch import nn

    description: dict[str, Any] = {"t": "model", "module": isinstance(model, nn.Module)}
    description["type"] = type(model).__name__
    if not description["module"]:
        return description
    leaves = [m for m in model.modules() if not list(m.children())]
    layers = []
    for m in leaves:
        name = type(m).__name__
        if name.startswith("BatchNorm"):
            layers.append("BN")
        elif isinstance(m, nn.Linear):
            layers.append("L")
        elif isinstance(m, nn.Sigmoid):
            layers.append("S")
        else:
            layers.append(name[:60])
    description["layers"] = layers[:200]
    description["linears"] = [
        [int(m.in_features), int(m.out_features)] for m in leaves if isinstance(m, nn.Linear)
    ][:50]
    try:
        with torch.no_grad():
            description["output_shape"] = [int(s) for s in model(torch.zeros(5, 784)).shape]
    except Exception as error:  # noqa: BLE001 — o modelo do aluno pode falhar
        description["output_shape"] = None
        description["error"] = f"{type(error).__name__}: {str(error)[:200]}"
    return description


def layer_hints(with_bn: bool, layers: list[str]) -> list[str]:
    """As dicas para uma ordem de camadas errada."""
    if with_bn and layers == ["L", "S", "BN", "L", "S", "BN", "L"]:
        return ["aqui a BN vem ANTES da ativação, como no artigo original: Linear → BN → sigmoide."]
    if "S" not in layers:
        return ["use a ativação sigmoide (nn.Sigmoid), como pede o enunciado."]
    if layers.count("BN") > 2:
        return ["a última camada (os logits) não leva BN."]
    return []


def judge_model(view: dict, cases: list[dict], answers: list[dict]) -> Result:
    """Julga a questão 6.1 a partir das descrições de :func:`describe_model`."""
    messages: list[str] = []
    hints: list[str] = []
    ok = 0
    for case, answer in zip(cases, answers, strict=False):
        with_bn = bool(case["args"][0])
        label = f"caso “with_bn={with_bn}”"
        if answer.get("status") == "skipped":
            continue
        if answer.get("status") != "ok":
            messages.append(f"✘ {label}: {answer.get('explanation', 'erro')}")
            continue
        model = answer.get("output")
        if not isinstance(model, dict) or not model.get("module"):
            kind = model.get("type", "?") if isinstance(model, dict) else type(model).__name__
            messages.append(
                f"✘ {label}: devolva um torch.nn.Module; veio um objeto do tipo {kind}."
            )
            continue
        problems = []
        if model.get("output_shape") is None:
            problems.append(f"a chamada com 5 imagens falhou ({model.get('error', '?')})")
        elif model["output_shape"] != [5, 10]:
            problems.append(
                "a saída para 5 imagens deveria ter shape (5, 10), veio "
                f"{tuple(model['output_shape'])}"
            )
        linears = model.get("linears", [])
        if linears != EXPECTED_LINEARS:
            arrows = " → ".join(f"{a}→{b}" for a, b in linears) or "nenhuma"
            problems.append(f"camadas Linear esperadas 784→100→100→10, vieram {arrows}")
        layers = model.get("layers", [])
        if layers != EXPECTED_LAYERS[with_bn] and not problems:
            problems.append(f"ordem das camadas {layers}, esperada {EXPECTED_LAYERS[with_bn]}")
            hints.extend(layer_hints(with_bn, layers))
        if problems:
            messages.append(f"✘ {label}: " + "; ".join(problems) + ".")
        else:
            ok += 1
    total = len(cases)
    not_implemented = any("ainda não foi implementada" in m for m in messages)
    if ok < total and not hints and not not_implemented:
        hints.append(view["general_hint"])
    messages.extend(f"Dica: {d}" for d in dict.fromkeys(hints))
    points = round(view["points"] * ok / total, 2)
    return Result(view["id"], view["name"], points, float(view["points"]), ok, total, messages)
