"""As verificações dos trabalhos: aprovam a referência e reconhecem os erros comuns."""

import numpy as np
import pytest
import torch

from bnlib import checks


def _dica(resultado: checks.Resultado) -> str:
    return "\n".join(m for m in resultado.mensagens if m.startswith("Dica"))


def _passa(verificar, funcao, capsys=None):
    resultado = verificar(funcao, silencioso=True)
    assert resultado.aprovado, resultado.texto()
    assert resultado.pontos == resultado.maximo
    return resultado


def _falha(verificar, funcao, dica: str):
    resultado = verificar(funcao, silencioso=True)
    assert not resultado.aprovado
    assert resultado.pontos < resultado.maximo
    assert dica in _dica(resultado), resultado.texto()
    return resultado


# ---- referências internas contra o PyTorch ---------------------------------------------


def test_layer_norm_reference_matches_torch():
    rng = np.random.default_rng(0)
    x, g, b = rng.standard_normal((5, 7)), rng.standard_normal(7), rng.standard_normal(7)
    expected = torch.nn.functional.layer_norm(
        torch.from_numpy(x), (7,), torch.from_numpy(g), torch.from_numpy(b), eps=1e-5
    )
    np.testing.assert_allclose(checks.layer_norm_reference(x, g, b), expected.numpy(), 1e-10)


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_group_norm_reference_matches_torch(groups):
    rng = np.random.default_rng(groups)
    x, g, b = rng.standard_normal((3, 6, 4, 5)), rng.standard_normal(6), rng.standard_normal(6)
    expected = torch.nn.functional.group_norm(
        torch.from_numpy(x), groups, torch.from_numpy(g), torch.from_numpy(b), eps=1e-5
    )
    np.testing.assert_allclose(
        checks.group_norm_reference(x, g, b, groups), expected.numpy(), rtol=1e-10, atol=1e-12
    )


# ---- Trabalho 1 -------------------------------------------------------------------------


def test_media_e_variancia():
    _passa(checks.verificar_media_e_variancia, lambda x: (x.mean(0), x.var(0)))
    _falha(
        checks.verificar_media_e_variancia,
        lambda x: (x.mean(0), x.var(0, ddof=1)),
        "a variância deve usar 1/N, não 1/(N-1)",
    )
    _falha(checks.verificar_media_e_variancia, lambda x: (x.mean(1), x.var(1)), "eixo errado")
    _falha(checks.verificar_media_e_variancia, lambda x: (x.mean(0), x.std(0)), "desvio padrão")
    _falha(checks.verificar_media_e_variancia, lambda x: (x.mean(), x.var()), "axis=0")


def _norm(x, eps=1e-5, ddof=0, axis=0, fora=False):
    m = x.mean(axis, keepdims=True)
    v = x.var(axis, ddof=ddof, keepdims=True)
    return (x - m) / (np.sqrt(v) + eps if fora else np.sqrt(v + eps))


def test_normalizar():
    _passa(checks.verificar_normalizar, _norm)
    _falha(checks.verificar_normalizar, lambda x, eps=1e-5: _norm(x, ddof=1), "1/N, não 1/(N-1)")
    _falha(checks.verificar_normalizar, lambda x, eps=1e-5: _norm(x, fora=True), "dentro da raiz")
    _falha(checks.verificar_normalizar, lambda x, eps=1e-5: _norm(x, axis=1), "eixo errado")
    _falha(checks.verificar_normalizar, lambda x, eps=1e-5: _norm(x, eps=0), "faltou o épsilon")


def test_bn_passo_direto():
    _passa(checks.verificar_bn_passo_direto, lambda x, g, b, eps=1e-5: g * _norm(x) + b)
    _falha(
        checks.verificar_bn_passo_direto,
        lambda x, g, b, eps=1e-5: g * _norm(x, ddof=1) + b,
        "1/N, não 1/(N-1)",
    )
    _falha(
        checks.verificar_bn_passo_direto,
        lambda x, g, b, eps=1e-5: g * _norm(x, fora=True) + b,
        "dentro da raiz",
    )
    _falha(
        checks.verificar_bn_passo_direto,
        lambda x, g, b, eps=1e-5: g * _norm(x, axis=1) + b,
        "eixo errado",
    )
    _falha(checks.verificar_bn_passo_direto, lambda x, g, b, eps=1e-5: _norm(x), "escala")
    _falha(checks.verificar_bn_passo_direto, lambda x, g, b, eps=1e-5: b * _norm(x) + g, "trocados")


def test_exceptions_are_explained_not_raised(capsys):
    def quebrada(x):
        return x.mean(axis=5)

    resultado = checks.verificar_media_e_variancia(quebrada)
    saida = capsys.readouterr().out
    assert resultado.pontos == 0
    assert "AxisError" in saida and "x.mean(axis=5)" in saida
    assert "Traceback" not in saida
    assert "Questão 1.1" in saida


def test_not_implemented_and_not_callable():
    def vazia(x):
        raise NotImplementedError("Escreva sua solução aqui.")

    resultado = checks.verificar_media_e_variancia(vazia, silencioso=True)
    assert resultado.pontos == 0 and "ainda não foi implementada" in resultado.texto()
    resultado = checks.verificar_bn_passo_direto(None, silencioso=True)
    assert resultado.pontos == 0 and "deveria ser uma função" in resultado.texto()


def test_wrong_return_format():
    resultado = checks.verificar_media_e_variancia(lambda x: x.mean(0), silencioso=True)
    assert "tupla de 2 valores" in resultado.texto()


def test_partial_credit_counts_hidden_cases():
    def so_float64(x):
        if x.dtype == np.float32:
            return x.mean(0), x.var(0) * 2
        return x.mean(0), x.var(0)

    resultado = checks.verificar_media_e_variancia(so_float64, silencioso=True)
    assert 0 < resultado.pontos < resultado.maximo
    assert "caso oculto «float32" in resultado.texto()


# ---- Trabalho 2 -------------------------------------------------------------------------


def _retro(dy, x, gamma, eps=1e-5, ddof=0, kind="ok"):
    return checks._bn_backward_variant(dy, x, gamma, eps, ddof=ddof, kind=kind)


@pytest.mark.parametrize(
    "verificar", [checks.verificar_bn_retro_etapas, checks.verificar_bn_retro_fechada]
)
def test_backward(verificar):
    _passa(verificar, _retro)
    _falha(verificar, lambda dy, x, g, eps=1e-5: _retro(dy, x, g, kind="so_direto"), "caminhos")
    _falha(
        verificar,
        lambda dy, x, g, eps=1e-5: _retro(dy, x, g, kind="sem_variancia"),
        "caminho pela variância",
    )
    _falha(
        verificar, lambda dy, x, g, eps=1e-5: _retro(dy, x, g, kind="dgamma_com_x"), "não Σ dy · x"
    )
    _falha(verificar, lambda dy, x, g, eps=1e-5: _retro(dy, x, g, ddof=1), "1/N, não 1/(N-1)")
    _falha(
        verificar,
        lambda dy, x, g, eps=1e-5: (lambda r: (r[0], r[2], r[1]))(_retro(dy, x, g)),
        "trocados",
    )


def _grad(f, x, dy, h=1e-5, kind="central", restaurar=True):
    dx = np.zeros_like(x)
    base = np.sum(f(x) * dy)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + h
        mais = np.sum(f(x) * dy)
        x[i] = original - h
        menos = np.sum(f(x) * dy)
        x[i] = original if restaurar else original - h
        if kind == "central":
            dx[i] = (mais - menos) / (2 * h)
        elif kind == "frente":
            dx[i] = (mais - base) / h
        else:
            dx[i] = (mais - menos) / h
    return dx


def test_gradiente_numerico():
    _passa(checks.verificar_gradiente_numerico, _grad)
    _falha(
        checks.verificar_gradiente_numerico,
        lambda f, x, dy, h=1e-5: _grad(f, x, dy, kind="frente"),
        "diferenças centradas",
    )
    _falha(
        checks.verificar_gradiente_numerico,
        lambda f, x, dy, h=1e-5: _grad(f, x, dy, kind="sem_2"),
        "dividir por 2h",
    )
    resultado = checks.verificar_gradiente_numerico(
        lambda f, x, dy, h=1e-5: _grad(f, x, dy, restaurar=False), silencioso=True
    )
    assert "deixou `x` alterado" in resultado.texto()


# ---- Trabalho 3 -------------------------------------------------------------------------


def _atualizar(media, var, x, momentum=0.1, ddof=1, invertido=False):
    a, b = (momentum, 1 - momentum) if invertido else (1 - momentum, momentum)
    return a * media + b * x.mean(0), a * var + b * x.var(0, ddof=ddof)


def test_atualizar_estatisticas():
    _passa(checks.verificar_atualizar_estatisticas, _atualizar)
    _falha(
        checks.verificar_atualizar_estatisticas,
        lambda m, v, x, momentum=0.1: _atualizar(m, v, x, momentum, ddof=0),
        "NÃO enviesada",
    )
    _falha(
        checks.verificar_atualizar_estatisticas,
        lambda m, v, x, momentum=0.1: _atualizar(m, v, x, momentum, invertido=True),
        "peso do lote NOVO",
    )


def test_atualizar_estatisticas_matches_bnlib():
    from bnlib import batchnorm_forward, update_running_stats

    x = np.random.default_rng(3).standard_normal((6, 3))
    _, cache = batchnorm_forward(x, np.ones(3), np.zeros(3))
    expected = update_running_stats(np.zeros(3), np.ones(3), cache, 0.1)
    for got, exp in zip(checks._atualizar_ref(np.zeros(3), np.ones(3), x), expected, strict=True):
        np.testing.assert_allclose(got, exp)


def test_bn_inferencia():
    def certa(x, g, b, m, v, eps=1e-5):
        return g * (x - m) / np.sqrt(v + eps) + b

    _passa(checks.verificar_bn_inferencia, certa)
    _falha(
        checks.verificar_bn_inferencia,
        lambda x, g, b, m, v, eps=1e-5: g * _norm(x) + b,
        "estatísticas ACUMULADAS",
    )
    _falha(
        checks.verificar_bn_inferencia,
        lambda x, g, b, m, v, eps=1e-5: g * (x - m) / (np.sqrt(v) + eps) + b,
        "dentro da raiz",
    )


def test_resposta_peso_inicial():
    assert checks.verificar_resposta_peso_inicial(0.9**50, silencioso=True).aprovado
    resultado = checks.verificar_resposta_peso_inicial(0.1**50, silencioso=True)
    assert resultado.pontos == 0 and "(1 - momentum) = 0,9" in resultado.texto()
    assert "ainda não foi preenchida" in checks.verificar_resposta_peso_inicial(None).texto()
    assert "deve ser um número" in checks.verificar_resposta_peso_inicial("muito").texto()


# ---- Trabalho 4 -------------------------------------------------------------------------


def _espacial(x, g, b, eps=1e-5, axes=(0, 2, 3), ddof=0):
    m = x.mean(axes, keepdims=True)
    v = x.var(axes, ddof=ddof, keepdims=True)
    return g.reshape(1, -1, 1, 1) * (x - m) / np.sqrt(v + eps) + b.reshape(1, -1, 1, 1)


def test_bn_espacial_passo_direto():
    _passa(checks.verificar_bn_espacial_passo_direto, _espacial)
    _falha(
        checks.verificar_bn_espacial_passo_direto,
        lambda x, g, b, eps=1e-5: _espacial(x, g, b, axes=(0,)),
        "uma média e uma variância por CANAL",
    )
    _falha(
        checks.verificar_bn_espacial_passo_direto,
        lambda x, g, b, eps=1e-5: _espacial(x, g, b, axes=(2, 3)),
        "normalização de instância",
    )
    _falha(
        checks.verificar_bn_espacial_passo_direto,
        lambda x, g, b, eps=1e-5: _espacial(x, g, b, ddof=1),
        "1/m, não 1/(m-1)",
    )


def test_bn_espacial_retro():
    def via_2d(dy, x, g, eps=1e-5):
        n, c, h, w = x.shape
        flat = x.transpose(0, 2, 3, 1).reshape(-1, c)
        dflat = dy.transpose(0, 2, 3, 1).reshape(-1, c)
        dx, dg, db = _retro(dflat, flat, g)
        return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dg, db

    _passa(checks.verificar_bn_espacial_retro, via_2d)
    _falha(
        checks.verificar_bn_espacial_retro,
        lambda dy, x, g, eps=1e-5: _retro(dy, x, g, kind="so_direto"),
        "também dependem de x",
    )
    _falha(
        checks.verificar_bn_espacial_retro,
        lambda dy, x, g, eps=1e-5: _retro(dy, x, g, ddof=1),
        "não por m - 1",
    )
    resultado = checks.verificar_bn_espacial_retro(checks._per_position_backward, silencioso=True)
    assert resultado.pontos == 0 and "por CANAL" in resultado.texto()


# ---- Trabalho 5 -------------------------------------------------------------------------


def test_norm_camada():
    _passa(checks.verificar_norm_camada, lambda x, g, b, eps=1e-5: g * _norm(x, axis=1) + b)
    _falha(
        checks.verificar_norm_camada,
        lambda x, g, b, eps=1e-5: g * _norm(x, axis=0) + b,
        "isso é a normalização em lote",
    )
    _falha(
        checks.verificar_norm_camada,
        lambda x, g, b, eps=1e-5: g * _norm(x, axis=1, ddof=1) + b,
        "1/D, não 1/(D-1)",
    )


def test_norm_grupo():
    _passa(
        checks.verificar_norm_grupo,
        lambda x, g, b, grupos, eps=1e-5: checks.group_norm_reference(x, g, b, grupos, eps),
    )

    def entrelacada(x, g, b, grupos, eps=1e-5):
        n, c, h, w = x.shape
        xg = x.reshape(n, c // grupos, grupos, h, w)
        m = xg.mean((1, 3, 4), keepdims=True)
        v = xg.var((1, 3, 4), keepdims=True)
        x_hat = ((xg - m) / np.sqrt(v + eps)).reshape(x.shape)
        return g.reshape(1, -1, 1, 1) * x_hat + b.reshape(1, -1, 1, 1)

    _falha(checks.verificar_norm_grupo, entrelacada, "CONSECUTIVOS")
    _falha(
        checks.verificar_norm_grupo,
        lambda x, g, b, grupos, eps=1e-5: _espacial(x, g, b, axes=(2, 3)),
        "normalização de instância",
    )
    _falha(
        checks.verificar_norm_grupo,
        lambda x, g, b, grupos, eps=1e-5: _espacial(x, g, b),
        "isso é a normalização em lote",
    )


# ---- Trabalho 6 -------------------------------------------------------------------------


def _mlp(com_bn, depois=False):
    from torch import nn

    camadas = []
    for a, b in [(784, 100), (100, 100)]:
        bloco = [nn.Linear(a, b), nn.Sigmoid()]
        if com_bn:
            bloco.insert(2 if depois else 1, nn.BatchNorm1d(b))
        camadas += bloco
    return nn.Sequential(*camadas, nn.Linear(100, 10))


def test_construir_mlp():
    from bnlib import nn as bnn
    from bnlib.training import make_mlp

    _passa(checks.verificar_construir_mlp, _mlp)
    _passa(
        checks.verificar_construir_mlp,
        lambda com_bn: make_mlp(
            [784, 100, 100, 10], "sigmoid", norm=bnn.BatchNorm1d if com_bn else None
        ),
    )
    _falha(checks.verificar_construir_mlp, lambda c: _mlp(c, depois=True), "ANTES da ativação")
    resultado = checks.verificar_construir_mlp(lambda c: _mlp(False), silencioso=True)
    assert resultado.casos_ok == 1


def test_passos_ate():
    def certa(h, alvo):
        return next(
            (p for p, a in zip(h["eval_step"], h["eval_accuracy"], strict=True) if a >= alvo), None
        )

    _passa(checks.verificar_passos_ate, certa)

    def indice(h, alvo):
        return next((i for i, a in enumerate(h["eval_accuracy"]) if a >= alvo), None)

    _falha(checks.verificar_passos_ate, indice, "não o índice")

    def estrito(h, alvo):
        return next(
            (p for p, a in zip(h["eval_step"], h["eval_accuracy"], strict=True) if a > alvo), None
        )

    _falha(checks.verificar_passos_ate, estrito, "maior ou igual")

    def menos_um(h, alvo):
        return certa(h, alvo) or -1

    _falha(checks.verificar_passos_ate, menos_um, "devolva None")


def test_project_answers():
    ref = checks.medidas_referencia()
    assert ref["passos_com_bn"] is not None
    assert ref["final_com_bn"] > ref["final_sem_bn"] + 0.2
    assert checks.verificar_resposta_passos(ref["passos_com_bn"], silencioso=True).aprovado
    diferenca = 100 * (ref["final_com_bn"] - ref["final_sem_bn"])
    assert checks.verificar_resposta_diferenca(diferenca, silencioso=True).aprovado
    _falha(checks.verificar_resposta_diferenca, diferenca / 100, "pontos percentuais")


def test_corrigir_trabalho_prints_record_and_handles_missing_names(capsys):
    resultados = checks.corrigir_trabalho(
        "01_passo_direto", {"media_e_variancia": lambda x: (x.mean(0), x.var(0))}
    )
    saida = capsys.readouterr().out
    assert saida.startswith(checks.MARCADOR)
    assert [r.pontos for r in resultados] == [3, 0, 0]
    assert "não está definido" in resultados[1].texto()
    with pytest.raises(ValueError, match="trabalho desconhecido"):
        checks.corrigir_trabalho("99_nada", {})


# ---- Retorno revisado: formato, shape, tipo, tempo, exceções e dicas novas ----------------


def _sem_dica(resultado: checks.Resultado) -> None:
    assert not _dica(resultado), resultado.texto()


def test_format_problems_get_specific_message_not_formula_hint():
    r = checks.verificar_media_e_variancia(lambda x: x.var(0), silencioso=True)
    _sem_dica(r)
    r = checks.verificar_bn_passo_direto(lambda x, g, b, eps=1e-5: (g * _norm(x) + b, {}), True)
    assert "devolver só y" in r.texto()
    _sem_dica(r)
    r = checks.verificar_bn_passo_direto(lambda x, g, b, eps=1e-5: None, silencioso=True)
    assert "devolveu None" in r.texto() and "shape esperado" not in r.texto()


def test_shape_messages_explain_keepdims_and_transpose():
    r = checks.verificar_media_e_variancia(
        lambda x: (x.mean(0, keepdims=True), x.var(0, keepdims=True)), silencioso=True
    )
    assert "keepdims=True" in r.texto() and r.pontos == 0
    _sem_dica(r)
    r = checks.verificar_normalizar(lambda x, eps=1e-5: _norm(x).T, silencioso=True)
    assert "transposto" in r.texto()
    r = checks.verificar_bn_espacial_retro(
        lambda dy, x, g, eps=1e-5: (
            lambda r: (r[0], r[1].reshape(1, -1, 1, 1), r[2].reshape(1, -1, 1, 1))
        )(checks._bn_backward_ref(dy, x, g)),
        silencioso=True,
    )
    assert "keepdims=True" in r.texto()


def test_float32_upcast_gets_warning_without_penalty():
    r = checks.verificar_normalizar(lambda x, eps=1e-5: _norm(x.astype(np.float64)), True)
    assert r.aprovado and r.pontos == r.maximo
    assert "Aviso" in r.texto() and "float32" in r.texto() and "float64" in r.texto()
    r = checks.verificar_normalizar(_norm, silencioso=True)
    assert "Aviso" not in r.texto()


def test_infinite_loop_is_interrupted_and_explained(monkeypatch):
    monkeypatch.setattr(checks, "LIMITE_CASO", 0.2)

    def para_sempre(x):
        while True:
            pass

    r = checks.verificar_media_e_variancia(para_sempre, silencioso=True)
    assert r.pontos == 0 and "laço infinito" in r.texto()
    assert len([m for m in r.mensagens if m.startswith("✘")]) == 1  # pára no primeiro caso

    def passos_ate(historico, alvo):
        i = 0
        while historico["eval_accuracy"][i] < alvo:
            pass
        return historico["eval_step"][i]

    r = checks.verificar_passos_ate(passos_ate, silencioso=True)
    assert "laço infinito" in r.texto()


def test_broad_except_in_student_code_does_not_swallow_time_limit(monkeypatch):
    monkeypatch.setattr(checks, "LIMITE_CASO", 0.2)

    def engole(x):
        try:
            while True:
                pass
        except Exception:
            return x.mean(0), x.var(0)

    assert "laço infinito" in checks.verificar_media_e_variancia(engole, True).texto()


def test_common_exceptions_are_translated_and_grouped():
    r = checks.verificar_norm_camada(
        lambda x, g, b, eps=1e-5: g * (x - x.mean(1)) / np.sqrt(x.var(1) + eps) + b, True
    )
    assert "keepdims=True" in r.texto() and "Em português" in r.texto()
    assert "o mesmo problema em mais 3 casos ocultos" in r.texto()

    def divisao(x, gamma, beta, grupos, eps=1e-5):
        n, c, h, w = x.shape
        return x.reshape(n, grupos, c / grupos, h, w)

    assert "`//`" in checks.verificar_norm_grupo(divisao, silencioso=True).texto()


def test_bn_passo_direto_missing_beta_or_gamma():
    _falha(checks.verificar_bn_passo_direto, lambda x, g, b, eps=1e-5: g * _norm(x), "somar beta")
    _falha(checks.verificar_bn_passo_direto, lambda x, g, b, eps=1e-5: _norm(x) + b, "por gamma")


def _retro_nd(dy, x, gamma, eps=1e-5, media=True, variancia=True, com_gamma=True, m=None):
    """Retropropagação nó a nó de um aluno, em (N, D) ou (N, C, H, W), com erros opcionais."""
    eixos = (0,) if x.ndim == 2 else (0, 2, 3)
    forma = (1, -1) + (1,) * (x.ndim - 2)
    m = m or int(np.prod([x.shape[a] for a in eixos]))
    xmu = x - x.mean(eixos, keepdims=True)
    var = x.var(eixos, keepdims=True)
    inv = 1 / np.sqrt(var + eps)
    xhat = xmu * inv
    dxhat = dy * gamma.reshape(forma) if com_gamma else dy
    dxmu = dxhat * inv
    if variancia:
        dvar = (dxhat * xmu).sum(eixos, keepdims=True) * -0.5 * inv**3
        dxmu = dxmu + dvar * 2 * xmu / m
    dx = dxmu - dxmu.sum(eixos, keepdims=True) / m if media else dxmu
    return dx, (dy * xhat).sum(eixos), dy.sum(eixos)


def test_backward_missing_mean_branch_and_gamma():
    _falha(
        checks.verificar_bn_retro_etapas,
        lambda dy, x, g, eps=1e-5: _retro_nd(dy, x, g, media=False),
        "falta o caminho pela média",
    )
    _falha(
        checks.verificar_bn_retro_fechada,
        lambda dy, x, g, eps=1e-5: _retro_nd(dy, x, g, com_gamma=False),
        "faltou multiplicar dy por gamma",
    )


def test_running_stats_keras_momentum_and_biased_variance_together():
    def keras_enviesada(m, v, x, momentum=0.1):
        return (
            momentum * m + (1 - momentum) * x.mean(0),
            momentum * v + (1 - momentum) * x.var(0),
        )

    r = _falha(checks.verificar_atualizar_estatisticas, keras_enviesada, "dois erros")
    assert _dica(r).count("Dica") == 1


def test_numeric_answer_does_not_reveal_expected_value():
    r = checks.verificar_resposta_peso_inicial(0.005, silencioso=True)
    assert f"{0.9**50:.6g}" not in r.texto() and "0.00515" not in r.texto()
    assert "perto" in _dica(r)
    r = checks.verificar_resposta_peso_inicial(0.9**50, silencioso=True)
    assert r.pontos == 2.0 and isinstance(r.pontos, float)
    assert "1 de 1 caso correto." in r.texto()


def _retro_por_pixel(dy, x, g, eps=1e-5):
    """Cada posição (c, h, w) normalizada como um atributo; dgamma e dbeta por canal."""
    xmu = x - x.mean(0)
    inv = 1 / np.sqrt(x.var(0) + eps)
    xhat = xmu * inv
    n = x.shape[0]
    dxhat = dy * g.reshape(1, -1, 1, 1)
    dx = inv / n * (n * dxhat - dxhat.sum(0) - xhat * (dxhat * xhat).sum(0))
    return dx, (dy * xhat).sum((0, 2, 3)), dy.sum((0, 2, 3))


def test_spatial_backward_hints():
    _falha(
        checks.verificar_bn_espacial_retro,
        lambda dy, x, g, eps=1e-5: _retro_nd(dy, x, g, m=x.shape[0]),
        "m = N·H·W valores, não N",
    )
    _falha(checks.verificar_bn_espacial_retro, _retro_por_pixel, "por CANAL")
    _falha(
        checks.verificar_bn_espacial_retro,
        lambda dy, x, g, eps=1e-5: _retro_nd(dy, x, g, variancia=False),
        "falta o caminho pela variância",
    )
    _passa(checks.verificar_bn_espacial_retro, lambda dy, x, g, eps=1e-5: _retro_nd(dy, x, g))


def test_group_norm_groups_confused_with_group_size():
    def trocado(x, g, b, grupos, eps=1e-5):
        n, c, h, w = x.shape
        xg = x.reshape(n, c // grupos, grupos, h, w)  # c // grupos grupos de `grupos` canais
        xg = (xg - xg.mean((2, 3, 4), keepdims=True)) / np.sqrt(
            xg.var((2, 3, 4), keepdims=True) + eps
        )
        return g.reshape(1, -1, 1, 1) * xg.reshape(x.shape) + b.reshape(1, -1, 1, 1)

    r = _falha(checks.verificar_norm_grupo, trocado, "NÚMERO de grupos")
    assert "instância" not in _dica(r)


def test_only_the_hint_that_explains_most_cases_is_shown():
    # Com N = 1, a BN sobre o lote coincide com a normalização de instância: a dica de
    # instância não deve aparecer ao lado da dica certa.
    r = _falha(
        checks.verificar_norm_grupo,
        lambda x, g, b, grupos, eps=1e-5: checks._affine(checks._normalize(x, (0, 2, 3)), g, b),
        "normalização em lote",
    )
    assert "instância" not in _dica(r)
