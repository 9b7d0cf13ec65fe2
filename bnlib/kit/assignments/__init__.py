"""As questões dos seis trabalhos, do lado do professor: casos, referências e erros plantados.

Cada módulo descreve um trabalho com uma lista ``QUESTIONS`` de :class:`Question`: o nome da
função ou resposta no caderno, os **pontos (definidos só aqui)**, o gerador dos casos (uma
semente produz os dados; a semente pública gera os casos visíveis, a do professor os da
correção), a referência (sempre a de :mod:`bnlib.core`) e os erros comuns plantados, que
reconhecem o erro do aluno e dão a dica.

============================  ==========================
módulo                        trabalho
============================  ==========================
:mod:`.forward_pass`          ``01_passo_direto``
:mod:`.backprop`              ``02_retropropagacao``
:mod:`.inference`             ``03_inferencia``
:mod:`.spatial`               ``04_espacial``
:mod:`.group_norm`            ``05_camada_grupo``
:mod:`.project`               ``06_projeto``
============================  ==========================

:mod:`.spec` tem as estruturas e os geradores de dados; :mod:`.mistakes`, as variantes
erradas da BN usadas por mais de um trabalho. Nada deste pacote vai no material do aluno.
"""
