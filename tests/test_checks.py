"""As verificações dos trabalhos: aprovam a referência e reconhecem os erros comuns."""

import numpy as np
import pytest

from bnlib.core import alternatives
from bnlib.kit import answers, checks, engine, registry
from bnlib.kit.assignments import mistakes


def _hint(result: checks.Result) -> str:
    return "\n".join(m for m in result.messages if m.startswith("Dica"))


def _passes(check, function, capsys=None):
    result = check(function, quiet=True)
    assert result.passed, result.text()
    assert result.points == result.max_points
    return result


def _fails(check, function, hint: str):
    result = check(function, quiet=True)
    assert not result.passed
    assert result.points < result.max_points
    assert hint in _hint(result), result.text()
    return result


# ---- todas as sementes: as soluções passam e cada erro plantado é reconhecido ----------


def _judge_outputs(question, cases, function):
    outputs = []
    for case in cases:
        args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in case["args"])
        try:
            value = function(*args, **case["kwargs"])
        except (ValueError, ZeroDivisionError, FloatingPointError):
            outputs.append({"status": "error", "explanation": "erro", "error_key": ("E", 1)})
            continue
        outputs.append({"status": "ok", "output": answers.decode(answers.encode(value))})
    return engine.judge_function(question.view(), cases, outputs)


@pytest.mark.parametrize("seed", [0, 1, 7, 123, 2**31 - 1])
@pytest.mark.parametrize("assignment", sorted(registry.ASSIGNMENTS)[:5])
def test_reference_passes_and_planted_mistakes_get_their_hint(assignment, seed):
    """Com qualquer semente do professor, a referência tira a nota máxima e cada erro plantado
    perde pontos e recebe uma dica que o explica (a sua, ou a de um erro equivalente)."""
    for question, cases in zip(
        registry.questions(assignment), registry.cases_for(assignment, seed), strict=True
    ):
        if question.kind != "function":
            continue
        result = _judge_outputs(question, cases, question.reference)
        assert result.passed and result.points == question.points, result.text()
        for mistake in question.mistakes:
            result = _judge_outputs(question, cases, mistake.function)
            if all(": erro" in m or "mesmo problema" in m for m in result.messages if m[0] == "✘"):
                continue  # o erro levanta uma exceção nestes shapes: o aluno vê a exceção
            assert not result.passed, (question.id, mistake.hint)
            hints = [m[len("Dica: ") :] for m in result.messages if m.startswith("Dica: ")]
            assert mistake.hint in hints or any(
                h in {m.hint for m in question.mistakes} for h in hints
            ), (question.id, mistake.hint, result.text())


def test_points_are_defined_once_and_sum_to_ten():
    for assignment in registry.ASSIGNMENTS:
        assert registry.max_points(assignment) == 10
        data = checks.visible.load(assignment)
        assert [q["points"] for q in data["questions"]] == [
            q.points for q in registry.questions(assignment)
        ]


def test_visible_data_has_no_reference_values_for_numeric_answers():
    for assignment in registry.ASSIGNMENTS:
        for view in checks.visible.load(assignment)["questions"]:
            if view["kind"] == "value":
                assert "cases" not in view and "expected" not in str(view)


# ---- Trabalho 1 -------------------------------------------------------------------------


def test_batch_mean_and_variance():
    _passes(checks.check_batch_mean_and_variance, lambda x: (x.mean(0), x.var(0)))
    _fails(
        checks.check_batch_mean_and_variance,
        lambda x: (x.mean(0), x.var(0, ddof=1)),
        "a variância deve usar 1/N, não 1/(N-1)",
    )
    _fails(checks.check_batch_mean_and_variance, lambda x: (x.mean(1), x.var(1)), "eixo errado")
    _fails(checks.check_batch_mean_and_variance, lambda x: (x.mean(0), x.std(0)), "desvio padrão")
    _fails(checks.check_batch_mean_and_variance, lambda x: (x.mean(), x.var()), "axis=0")


def _norm(x, eps=1e-5, ddof=0, axis=0, outside=False):
    m = x.mean(axis, keepdims=True)
    v = x.var(axis, ddof=ddof, keepdims=True)
    return (x - m) / (np.sqrt(v) + eps if outside else np.sqrt(v + eps))


def test_normalize():
    _passes(checks.check_normalize, _norm)
    _fails(checks.check_normalize, lambda x, eps=1e-5: _norm(x, ddof=1), "1/N, não 1/(N-1)")
    _fails(checks.check_normalize, lambda x, eps=1e-5: _norm(x, outside=True), "dentro da raiz")
    _fails(checks.check_normalize, lambda x, eps=1e-5: _norm(x, axis=1), "eixo errado")
    _fails(checks.check_normalize, lambda x, eps=1e-5: _norm(x, eps=0), "faltou o épsilon")


def test_bn_forward_pass():
    _passes(checks.check_bn_forward_pass, lambda x, g, b, eps=1e-5: g * _norm(x) + b)
    _fails(
        checks.check_bn_forward_pass,
        lambda x, g, b, eps=1e-5: g * _norm(x, ddof=1) + b,
        "1/N, não 1/(N-1)",
    )
    _fails(
        checks.check_bn_forward_pass,
        lambda x, g, b, eps=1e-5: g * _norm(x, outside=True) + b,
        "dentro da raiz",
    )
    _fails(
        checks.check_bn_forward_pass,
        lambda x, g, b, eps=1e-5: g * _norm(x, axis=1) + b,
        "eixo errado",
    )
    _fails(checks.check_bn_forward_pass, lambda x, g, b, eps=1e-5: _norm(x), "escala")
    _fails(checks.check_bn_forward_pass, lambda x, g, b, eps=1e-5: b * _norm(x) + g, "trocados")


def test_exceptions_are_explained_not_raised(capsys):
    def broken_fn(x):
        return x.mean(axis=5)

    result = checks.check_batch_mean_and_variance(broken_fn)
    output = capsys.readouterr().out
    assert result.points == 0
    assert "AxisError" in output and "x.mean(axis=5)" in output
    assert "Traceback" not in output
    assert "Questão 1.1" in output


def test_not_implemented_and_not_callable():
    def empty(x):
        raise NotImplementedError("Escreva sua solução aqui.")

    result = checks.check_batch_mean_and_variance(empty, quiet=True)
    assert result.points == 0 and "ainda não foi implementada" in result.text()
    result = checks.check_bn_forward_pass(None, quiet=True)
    assert result.points == 0 and "deveria ser uma função" in result.text()


def test_wrong_return_format():
    result = checks.check_batch_mean_and_variance(lambda x: x.mean(0), quiet=True)
    assert "tupla de 2 valores" in result.text()


def test_partial_credit_counts_hidden_cases():
    def float64_only(x):
        if x.dtype == np.float32:
            return x.mean(0), x.var(0) * 2
        return x.mean(0), x.var(0)

    result = checks.check_batch_mean_and_variance(float64_only, quiet=True)
    assert 0 < result.points < result.max_points
    assert "caso “float32" in result.text()


# ---- Trabalho 2 -------------------------------------------------------------------------


def _backward(dy, x, gamma, eps=1e-5, ddof=0, kind="ok"):
    return mistakes.backward_variant(dy, x, gamma, eps, ddof=ddof, kind=kind)


@pytest.mark.parametrize(
    "check", [checks.check_bn_backward_steps, checks.check_bn_backward_closed_form]
)
def test_backward(check):
    _passes(check, _backward)
    _fails(check, lambda dy, x, g, eps=1e-5: _backward(dy, x, g, kind="direct_only"), "caminhos")
    _fails(
        check,
        lambda dy, x, g, eps=1e-5: _backward(dy, x, g, kind="no_variance"),
        "caminho pela variância",
    )
    _fails(
        check, lambda dy, x, g, eps=1e-5: _backward(dy, x, g, kind="dgamma_with_x"), "não Σ dy · x"
    )
    _fails(check, lambda dy, x, g, eps=1e-5: _backward(dy, x, g, ddof=1), "1/N, não 1/(N-1)")
    _fails(
        check,
        lambda dy, x, g, eps=1e-5: (lambda r: (r[0], r[2], r[1]))(_backward(dy, x, g)),
        "trocados",
    )


def _grad(f, x, dy, h=1e-5, kind="central", restore=True):
    dx = np.zeros_like(x)
    base = np.sum(f(x) * dy)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + h
        plus = np.sum(f(x) * dy)
        x[i] = original - h
        minus = np.sum(f(x) * dy)
        x[i] = original if restore else original - h
        if kind == "central":
            dx[i] = (plus - minus) / (2 * h)
        elif kind == "forward":
            dx[i] = (plus - base) / h
        else:
            dx[i] = (plus - minus) / h
    return dx


def test_numerical_gradient():
    _passes(checks.check_numerical_gradient, _grad)
    _fails(
        checks.check_numerical_gradient,
        lambda f, x, dy, h=1e-5: _grad(f, x, dy, kind="forward"),
        "diferenças centradas",
    )
    _fails(
        checks.check_numerical_gradient,
        lambda f, x, dy, h=1e-5: _grad(f, x, dy, kind="no_2"),
        "dividir por 2h",
    )
    result = checks.check_numerical_gradient(
        lambda f, x, dy, h=1e-5: _grad(f, x, dy, restore=False), quiet=True
    )
    assert "alterou `x`" in result.text() and "restaure" in result.text()


# ---- Trabalho 3 -------------------------------------------------------------------------


def _update(mean, var, x, momentum=0.1, ddof=1, inverted=False):
    a, b = (momentum, 1 - momentum) if inverted else (1 - momentum, momentum)
    return a * mean + b * x.mean(0), a * var + b * x.var(0, ddof=ddof)


def test_update_running_averages():
    _passes(checks.check_update_running_averages, _update)
    _fails(
        checks.check_update_running_averages,
        lambda m, v, x, momentum=0.1: _update(m, v, x, momentum, ddof=0),
        "NÃO enviesada",
    )
    _fails(
        checks.check_update_running_averages,
        lambda m, v, x, momentum=0.1: _update(m, v, x, momentum, inverted=True),
        "peso do lote NOVO",
    )


def test_bn_inference():
    def correct(x, g, b, m, v, eps=1e-5):
        return g * (x - m) / np.sqrt(v + eps) + b

    _passes(checks.check_bn_inference, correct)
    _fails(
        checks.check_bn_inference,
        lambda x, g, b, m, v, eps=1e-5: g * _norm(x) + b,
        "estatísticas ACUMULADAS",
    )
    _fails(
        checks.check_bn_inference,
        lambda x, g, b, m, v, eps=1e-5: g * (x - m) / (np.sqrt(v) + eps) + b,
        "dentro da raiz",
    )


def _judge_value(assignment, name, value):
    question = next(q for q in registry.questions(assignment) if q.name == name)
    raw = {"status": "ok", "value": answers.encode(value)}
    return registry.judge_question(question, None, raw)[0]


def test_answer_initial_weight_is_judged_by_the_grader():
    assert _judge_value("03_inferencia", "answer_initial_weight", 0.9**50).passed
    result = _judge_value("03_inferencia", "answer_initial_weight", 0.1**50)
    assert result.points == 0 and "(1 - momentum) = 0,9" in result.text()
    assert "ainda não foi preenchida" in checks.check_answer_initial_weight(None).text()
    assert "deve ser um número" in checks.check_answer_initial_weight("muito").text()


# ---- Trabalho 4 -------------------------------------------------------------------------


def _spatial(x, g, b, eps=1e-5, axes=(0, 2, 3), ddof=0):
    m = x.mean(axes, keepdims=True)
    v = x.var(axes, ddof=ddof, keepdims=True)
    return g.reshape(1, -1, 1, 1) * (x - m) / np.sqrt(v + eps) + b.reshape(1, -1, 1, 1)


def test_spatial_bn_forward():
    _passes(checks.check_spatial_bn_forward, _spatial)
    _fails(
        checks.check_spatial_bn_forward,
        lambda x, g, b, eps=1e-5: _spatial(x, g, b, axes=(0,)),
        "uma média e uma variância por CANAL",
    )
    _fails(
        checks.check_spatial_bn_forward,
        lambda x, g, b, eps=1e-5: _spatial(x, g, b, axes=(2, 3)),
        "normalização de instância",
    )
    _fails(
        checks.check_spatial_bn_forward,
        lambda x, g, b, eps=1e-5: _spatial(x, g, b, ddof=1),
        "1/m, não 1/(m-1)",
    )


def test_spatial_bn_backward():
    def via_2d(dy, x, g, eps=1e-5):
        n, c, h, w = x.shape
        flat = x.transpose(0, 2, 3, 1).reshape(-1, c)
        dflat = dy.transpose(0, 2, 3, 1).reshape(-1, c)
        dx, dg, db = _backward(dflat, flat, g)
        return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dg, db

    _passes(checks.check_spatial_bn_backward, via_2d)
    _fails(
        checks.check_spatial_bn_backward,
        lambda dy, x, g, eps=1e-5: _backward(dy, x, g, kind="direct_only"),
        "também dependem de x",
    )
    _fails(
        checks.check_spatial_bn_backward,
        lambda dy, x, g, eps=1e-5: _backward(dy, x, g, ddof=1),
        "não por m - 1",
    )
    result = checks.check_spatial_bn_backward(mistakes.per_position_backward, quiet=True)
    assert result.points == 0 and "por CANAL" in result.text()


# ---- Trabalho 5 -------------------------------------------------------------------------


def test_layer_normalization():
    _passes(checks.check_layer_normalization, lambda x, g, b, eps=1e-5: g * _norm(x, axis=1) + b)
    _fails(
        checks.check_layer_normalization,
        lambda x, g, b, eps=1e-5: g * _norm(x, axis=0) + b,
        "isso é a normalização em lote",
    )
    _fails(
        checks.check_layer_normalization,
        lambda x, g, b, eps=1e-5: g * _norm(x, axis=1, ddof=1) + b,
        "1/D, não 1/(D-1)",
    )


def test_group_normalization():
    _passes(
        checks.check_group_normalization,
        lambda x, g, b, groups, eps=1e-5: alternatives.group_norm_forward(x, g, b, groups, eps)[0],
    )

    def interleaved_fn(x, g, b, groups, eps=1e-5):
        n, c, h, w = x.shape
        xg = x.reshape(n, c // groups, groups, h, w)
        m = xg.mean((1, 3, 4), keepdims=True)
        v = xg.var((1, 3, 4), keepdims=True)
        x_hat = ((xg - m) / np.sqrt(v + eps)).reshape(x.shape)
        return g.reshape(1, -1, 1, 1) * x_hat + b.reshape(1, -1, 1, 1)

    _fails(checks.check_group_normalization, interleaved_fn, "CONSECUTIVOS")
    _fails(
        checks.check_group_normalization,
        lambda x, g, b, groups, eps=1e-5: _spatial(x, g, b, axes=(2, 3)),
        "normalização de instância",
    )
    _fails(
        checks.check_group_normalization,
        lambda x, g, b, groups, eps=1e-5: _spatial(x, g, b),
        "isso é a normalização em lote",
    )


# ---- Trabalho 6 -------------------------------------------------------------------------


def _mlp(with_bn, after=False):
    from torch import nn

    layers = []
    for a, b in [(784, 100), (100, 100)]:
        block = [nn.Linear(a, b), nn.Sigmoid()]
        if with_bn:
            block.insert(2 if after else 1, nn.BatchNorm1d(b))
        layers += block
    return nn.Sequential(*layers, nn.Linear(100, 10))


def test_build_mlp():
    from bnlib import nn as bnn
    from bnlib.lab.models import make_mlp

    _passes(checks.check_build_mlp, _mlp)
    _passes(
        checks.check_build_mlp,
        lambda with_bn: make_mlp(
            [784, 100, 100, 10], "sigmoid", norm=bnn.BatchNorm1d if with_bn else None
        ),
    )
    _fails(checks.check_build_mlp, lambda c: _mlp(c, after=True), "ANTES da ativação")
    result = checks.check_build_mlp(lambda c: _mlp(False), quiet=True)
    assert result.cases_passed == 1


def test_steps_to_target():
    def correct(h, target):
        return next(
            (p for p, a in zip(h["eval_step"], h["eval_accuracy"], strict=True) if a >= target),
            None,
        )

    _passes(checks.check_steps_to_target, correct)

    def index(h, target):
        return next((i for i, a in enumerate(h["eval_accuracy"]) if a >= target), None)

    _fails(checks.check_steps_to_target, index, "não o índice")

    def strict_gt(h, target):
        return next(
            (p for p, a in zip(h["eval_step"], h["eval_accuracy"], strict=True) if a > target), None
        )

    _fails(checks.check_steps_to_target, strict_gt, "maior ou igual")

    def minus_one(h, target):
        return correct(h, target) or -1

    _fails(checks.check_steps_to_target, minus_one, "devolva None")


def test_numeric_answers_are_checked_only_in_form_in_the_notebook():
    for value in (0.9**50, 0.1**50, 123.0):
        result = checks.check_answer_initial_weight(value, quiet=True)
        assert result.pending and result.points == 0 and "conferido na correção" in result.text()
    assert "deve ser um número" in checks.check_answer_difference("muito", quiet=True).text()


def test_grade_assignment_handles_missing_names():
    results = checks.grade_assignment(
        "01_passo_direto", {"batch_mean_and_variance": lambda x: (x.mean(0), x.var(0))}
    )
    assert [r.points for r in results] == [3, 0, 0]
    assert "não está definido" in results[1].text()
    with pytest.raises(ValueError, match="trabalho desconhecido"):
        checks.grade_assignment("99_nada", {})


def test_checks_do_not_run_during_grading(monkeypatch, capsys):
    monkeypatch.setenv("BNLIB_CORRECAO", "1")
    assert checks.check_normalize(lambda x, eps=1e-5: x) is None
    assert "Na correção" in capsys.readouterr().out


# ---- Retorno revisado: formato, shape, tipo, tempo, exceções e dicas novas ----------------


def _no_hint(result: checks.Result) -> None:
    assert not _hint(result), result.text()


def test_format_problems_get_specific_message_not_formula_hint():
    r = checks.check_batch_mean_and_variance(lambda x: x.var(0), quiet=True)
    _no_hint(r)
    r = checks.check_bn_forward_pass(lambda x, g, b, eps=1e-5: (g * _norm(x) + b, {}), True)
    assert "devolver só y" in r.text()
    _no_hint(r)
    r = checks.check_bn_forward_pass(lambda x, g, b, eps=1e-5: None, quiet=True)
    assert "devolveu None" in r.text() and "shape esperado" not in r.text()


def test_shape_messages_explain_keepdims_and_transpose():
    r = checks.check_batch_mean_and_variance(
        lambda x: (x.mean(0, keepdims=True), x.var(0, keepdims=True)), quiet=True
    )
    assert "keepdims=True" in r.text() and r.points == 0
    _no_hint(r)
    r = checks.check_normalize(lambda x, eps=1e-5: _norm(x).T, quiet=True)
    assert "transposto" in r.text()
    r = checks.check_spatial_bn_backward(
        lambda dy, x, g, eps=1e-5: (
            lambda r: (r[0], r[1].reshape(1, -1, 1, 1), r[2].reshape(1, -1, 1, 1))
        )(mistakes.backward(dy, x, g)),
        quiet=True,
    )
    assert "keepdims=True" in r.text()


def test_float32_upcast_gets_warning_without_penalty():
    r = checks.check_normalize(lambda x, eps=1e-5: _norm(x.astype(np.float64)), True)
    assert r.passed and r.points == r.max_points
    assert "Aviso" in r.text() and "float32" in r.text() and "float64" in r.text()
    r = checks.check_normalize(_norm, quiet=True)
    assert "Aviso" not in r.text()


def test_infinite_loop_is_interrupted_and_explained(monkeypatch):
    monkeypatch.setattr(checks, "CASE_TIME_LIMIT", 0.2)

    def forever(x):
        while True:
            pass

    r = checks.check_batch_mean_and_variance(forever, quiet=True)
    assert r.points == 0 and "laço infinito" in r.text()
    assert len([m for m in r.messages if m.startswith("✘")]) == 1  # pára no primeiro caso

    def steps_to_target(history, target):
        i = 0
        while history["eval_accuracy"][i] < target:
            pass
        return history["eval_step"][i]

    r = checks.check_steps_to_target(steps_to_target, quiet=True)
    assert "laço infinito" in r.text()


def test_broad_except_in_student_code_does_not_swallow_time_limit(monkeypatch):
    monkeypatch.setattr(checks, "CASE_TIME_LIMIT", 0.2)

    def swallows(x):
        try:
            while True:
                pass
        except Exception:
            return x.mean(0), x.var(0)

    assert "laço infinito" in checks.check_batch_mean_and_variance(swallows, True).text()


def test_common_exceptions_are_translated_and_grouped():
    r = checks.check_layer_normalization(
        lambda x, g, b, eps=1e-5: g * (x - x.mean(1)) / np.sqrt(x.var(1) + eps) + b, True
    )
    assert "keepdims=True" in r.text() and "Em português" in r.text()
    assert "o mesmo problema em mais" in r.text()

    def division(x, gamma, beta, groups, eps=1e-5):
        n, c, h, w = x.shape
        return x.reshape(n, groups, c / groups, h, w)

    assert "`//`" in checks.check_group_normalization(division, quiet=True).text()


def test_bn_forward_pass_missing_beta_or_gamma():
    _fails(checks.check_bn_forward_pass, lambda x, g, b, eps=1e-5: g * _norm(x), "somar beta")
    _fails(checks.check_bn_forward_pass, lambda x, g, b, eps=1e-5: _norm(x) + b, "por gamma")


def _backward_nd(dy, x, gamma, eps=1e-5, mean=True, variance=True, with_gamma=True, m=None):
    """Retropropagação nó a nó de um aluno, em (N, D) ou (N, C, H, W), com erros opcionais."""
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    form = (1, -1) + (1,) * (x.ndim - 2)
    m = m or int(np.prod([x.shape[a] for a in axes]))
    xmu = x - x.mean(axes, keepdims=True)
    var = x.var(axes, keepdims=True)
    inv = 1 / np.sqrt(var + eps)
    xhat = xmu * inv
    dxhat = dy * gamma.reshape(form) if with_gamma else dy
    dxmu = dxhat * inv
    if variance:
        dvar = (dxhat * xmu).sum(axes, keepdims=True) * -0.5 * inv**3
        dxmu = dxmu + dvar * 2 * xmu / m
    dx = dxmu - dxmu.sum(axes, keepdims=True) / m if mean else dxmu
    return dx, (dy * xhat).sum(axes), dy.sum(axes)


def test_backward_missing_mean_branch_and_gamma():
    _fails(
        checks.check_bn_backward_steps,
        lambda dy, x, g, eps=1e-5: _backward_nd(dy, x, g, mean=False),
        "falta o caminho pela média",
    )
    _fails(
        checks.check_bn_backward_closed_form,
        lambda dy, x, g, eps=1e-5: _backward_nd(dy, x, g, with_gamma=False),
        "faltou multiplicar dy por gamma",
    )


def test_running_stats_keras_momentum_and_biased_variance_together():
    def keras_biased(m, v, x, momentum=0.1):
        return (
            momentum * m + (1 - momentum) * x.mean(0),
            momentum * v + (1 - momentum) * x.var(0),
        )

    r = _fails(checks.check_update_running_averages, keras_biased, "dois erros")
    assert _hint(r).count("Dica") == 1


def test_numeric_answer_does_not_reveal_expected_value():
    r = _judge_value("03_inferencia", "answer_initial_weight", 0.005)
    assert f"{0.9**50:.6g}" not in r.text() and "0.00515" not in r.text()
    assert "perto" in _hint(r)
    r = _judge_value("03_inferencia", "answer_initial_weight", np.float64(0.9**50))
    assert r.points == 2.0 and isinstance(r.points, float)
    assert "1 de 1 caso correto." in r.text()


def _backward_per_pixel(dy, x, g, eps=1e-5):
    """Cada posição (c, h, w) normalizada como um atributo; dgamma e dbeta por canal."""
    xmu = x - x.mean(0)
    inv = 1 / np.sqrt(x.var(0) + eps)
    xhat = xmu * inv
    n = x.shape[0]
    dxhat = dy * g.reshape(1, -1, 1, 1)
    dx = inv / n * (n * dxhat - dxhat.sum(0) - xhat * (dxhat * xhat).sum(0))
    return dx, (dy * xhat).sum((0, 2, 3)), dy.sum((0, 2, 3))


def test_spatial_backward_hints():
    _fails(
        checks.check_spatial_bn_backward,
        lambda dy, x, g, eps=1e-5: _backward_nd(dy, x, g, m=x.shape[0]),
        "m = N·H·W valores, não N",
    )
    _fails(checks.check_spatial_bn_backward, _backward_per_pixel, "por CANAL")
    _fails(
        checks.check_spatial_bn_backward,
        lambda dy, x, g, eps=1e-5: _backward_nd(dy, x, g, variance=False),
        "falta o caminho pela variância",
    )
    _passes(checks.check_spatial_bn_backward, lambda dy, x, g, eps=1e-5: _backward_nd(dy, x, g))


def test_group_norm_groups_confused_with_group_size():
    def swapped(x, g, b, groups, eps=1e-5):
        n, c, h, w = x.shape
        xg = x.reshape(n, c // groups, groups, h, w)  # c // groups grupos de `groups` canais
        xg = (xg - xg.mean((2, 3, 4), keepdims=True)) / np.sqrt(
            xg.var((2, 3, 4), keepdims=True) + eps
        )
        return g.reshape(1, -1, 1, 1) * xg.reshape(x.shape) + b.reshape(1, -1, 1, 1)

    r = _fails(checks.check_group_normalization, swapped, "NÚMERO de grupos")
    assert "instância" not in _hint(r)


def test_only_the_hint_that_explains_most_cases_is_shown():
    # Com N = 1, a BN sobre o lote coincide com a normalização de instância: a dica de
    # instância não deve aparecer ao lado da dica certa.
    r = _fails(
        checks.check_group_normalization,
        lambda x, g, b, groups, eps=1e-5: _spatial(x, g, b),
        "normalização em lote",
    )
    assert "instância" not in _hint(r)
