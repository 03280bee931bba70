"""Error pages in the user's language."""

from django.shortcuts import render


def bad_request(request, exception=None):
    """A request the page cannot answer, such as a search term with a NUL (issuance.params)."""
    message = str(exception) if exception and str(exception) else "请求的内容无法识别，请检查后重试"
    return render(request, "message.html", {"title": "请求有误", "message": message}, status=400)


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "您没有权限执行此操作"
    return render(request, "message.html", {"title": "无权访问", "message": message}, status=403)


def not_found(request, exception=None):
    return render(request, "message.html", {"title": "页面不存在", "message": "没有找到您要访问的页面或公文"}, status=404)


def server_error(request):
    return render(request, "message.html", {"title": "系统错误", "message": "系统出现错误，请稍后再试或联系管理员"}, status=500)
